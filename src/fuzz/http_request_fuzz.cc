// The request parts Pipy interprets, chosen by the input's first byte (the rest is the
// value). Pipy interprets no Range header (files are answered whole), so there is none.
//   0 ParseTarget: a path it accepts starts with '/', holds no control byte and is UTF-8;
//     the path percent-encoded again (with the query) parses back to the same path and
//     query; an absolute-form target gives what its origin-form gives.
//   1 IfNoneMatchMatches: "*" matches every etag; the etag itself (strong or weak), added
//     to any list, matches; never a match without a header or an etag.
//   2 NegotiateSimpleFormat (PEP 691 Accept): a format or kNotAcceptable, never another
//     error; the list given twice gives the same answer; JSON v1 named first with q=1
//     always wins.
//   3 The request line and framing checks (IsWellFormedVersionLine, HasBareLineFeed,
//     CheckFraming on comma-separated Transfer-Encoding values): never a crash;
//     CheckFraming accepts exactly one Host and, at most, one "chunked" in HTTP/1.1.
//   4 QueryParam: the value of a key that was form-encoded into a query decodes back.
#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/escape.h"
#include "core/strings.h"
#include "fuzz/fuzz_check.h"
#include "fuzz/fuzz_input.h"
#include "http/conditional.h"
#include "http/request_line.h"
#include "http/target.h"
#include "python/accept.h"
#include "web/request_parsing.h"

namespace {

using pipy::fuzz::Check;

std::string PercentEncodePath(std::string_view path) {
  std::string out;
  for (char c : path) {
    unsigned char u = static_cast<unsigned char>(c);
    if (c == '%' || c == '?' || c == '#' || u <= 0x20 || u >= 0x7f) {
      out += '%';
      pipy::AppendHexByte(out, u, pipy::HexCase::kUpper);
    } else {
      out += c;
    }
  }
  return out;
}

void FuzzTarget(std::string_view target) {
  auto parsed = pipy::http::ParseTarget(target);
  if (!parsed.has_value()) {
    return;
  }
  const std::string& path = parsed->path;
  Check(!path.empty() && path[0] == '/', "a parsed path starts with '/'");
  for (char c : path) {
    unsigned char u = static_cast<unsigned char>(c);
    Check(u >= 0x20 && u != 0x7f, "a parsed path holds no control byte");
  }
  Check(pipy::IsValidUtf8(path), "a parsed path is UTF-8");
  std::string again_text = PercentEncodePath(path);
  if (target.find('?') != std::string_view::npos) {
    again_text += "?" + parsed->query;
  }
  auto again = pipy::http::ParseTarget(again_text);
  Check(again.has_value() && again->path == path && again->query == parsed->query,
        "a re-encoded target parses to the same path and query");
  if (target.starts_with("/")) {
    auto absolute = pipy::http::ParseTarget("http://pipy.test" + std::string(target));
    Check(absolute.has_value() && absolute->path == path && absolute->query == parsed->query,
          "the absolute form parses like the origin form");
  }
}

void FuzzIfNoneMatch(std::string_view value) {
  using pipy::http::IfNoneMatchMatches;
  // The etag is the first line when it is quoted, else a fixed one.
  std::size_t nl = value.find('\n');
  std::string etag = "\"abc\"";
  if (nl != std::string_view::npos) {
    std::string_view first = value.substr(0, nl);
    if (first.size() >= 2 && first.front() == '"' && first.back() == '"' &&
        first.substr(1, first.size() - 2).find_first_of("\",") == std::string_view::npos) {
      etag = std::string(first);
    }
    value.remove_prefix(nl + 1);
  }
  Check(!IfNoneMatchMatches(std::nullopt, etag), "no header, no match");
  Check(!IfNoneMatchMatches(value, ""), "no etag, no match");
  Check(IfNoneMatchMatches(std::string_view("*"), etag), "* matches any etag");
  Check(IfNoneMatchMatches(std::string_view(" * "), etag), "* matches with spaces");
  const std::string v(value);
  const bool balanced = std::count(v.begin(), v.end(), '"') % 2 == 0;
  if (balanced) {
    Check(IfNoneMatchMatches(v + ", " + etag, etag), "the etag added at the end matches");
    Check(IfNoneMatchMatches(etag + ", " + v, etag), "the etag added first matches");
    Check(IfNoneMatchMatches(v + ",W/" + etag, etag), "the weak etag matches");
    Check(IfNoneMatchMatches(v + ", " + etag, "W/" + etag), "weak comparison on our side too");
  }
  Check(IfNoneMatchMatches(v, etag) == IfNoneMatchMatches(v, "W/" + etag),
        "the weak prefix of our etag changes nothing");
}

void FuzzAccept(std::string_view accept) {
  using pipy::python::NegotiateSimpleFormat;
  using pipy::python::SimpleFormat;
  auto format = NegotiateSimpleFormat(accept);
  Check(format.has_value() || format.error().code() == pipy::StatusCode::kNotAcceptable,
        "a format or kNotAcceptable");
  if (format.has_value()) {
    Check(!pipy::python::ContentTypeFor(*format).empty(), "a format has a content type");
  }
  Check(NegotiateSimpleFormat(std::nullopt).value() == SimpleFormat::kHtml, "no header: HTML");
  const std::string a(accept);
  if (a.find_first_of("\"\\") == std::string::npos) {
    auto twice = NegotiateSimpleFormat(a + "," + a);
    Check(twice.has_value() == format.has_value() &&
              (!format.has_value() || *twice == *format),
          "the list given twice gives the same answer");
  }
  auto json_first = NegotiateSimpleFormat("application/vnd.pypi.simple.v1+json," + a);
  Check(json_first.has_value() && *json_first == SimpleFormat::kJsonV1,
        "JSON v1 named first with q=1 wins");
}

void FuzzFraming(std::string_view input) {
  (void)pipy::http::IsWellFormedVersionLine(input);
  (void)pipy::http::HasBareLineFeed(input);
  pipy::http::Framing framing;
  framing.version = input.size() % 2 == 0 ? 11 : 10;
  framing.host_fields = 1;
  for (std::string_view te : pipy::SplitAscii(input, '\n')) {
    framing.transfer_encoding.push_back(te);
  }
  if (input.empty()) {
    framing.transfer_encoding.clear();
  }
  pipy::Status status = pipy::http::CheckFraming(framing);
  if (status.ok() && !framing.transfer_encoding.empty()) {
    Check(framing.version == 11, "no Transfer-Encoding in HTTP/1.0");
    std::size_t chunked = 0;
    for (std::string_view value : framing.transfer_encoding) {
      for (std::string_view coding : pipy::SplitAscii(value, ',')) {
        coding = pipy::TrimSpacesAndTabs(coding);
        Check(coding.empty() || pipy::EqualsIgnoreCase(coding, "chunked"),
              "the only transfer coding is chunked");
        chunked += coding.empty() ? 0 : 1;
      }
    }
    Check(chunked == 1, "chunked is applied exactly once");
  }
  framing.host_fields = 2;
  Check(!pipy::http::CheckFraming(framing).ok(), "two Host fields are refused");
  framing.host_fields = 0;
  framing.version = 11;
  Check(!pipy::http::CheckFraming(framing).ok(), "HTTP/1.1 without Host is refused");
}

std::string FormEncode(std::string_view s) {
  std::string out;
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
      out += c;
    } else if (c == ' ') {
      out += '+';
    } else {
      out += '%';
      pipy::AppendHexByte(out, u);
    }
  }
  return out;
}

void FuzzQuery(std::string_view input) {
  std::size_t nl = input.find('\n');
  std::string_view value = input.substr(0, nl);
  std::string_view query = nl == std::string_view::npos ? "" : input.substr(nl + 1);
  (void)pipy::web::QueryParam(query, "q");
  std::string built = "zz_unused=1&q=" + FormEncode(value) + "&" + std::string(query);
  Check(pipy::web::QueryParam(built, "q") == value, "a form-encoded value decodes back");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) {
    return 0;
  }
  std::string_view rest = pipy::fuzz::AsText(data + 1, size - 1);
  switch (data[0] % 5) {
    case 0:
      FuzzTarget(rest);
      break;
    case 1:
      FuzzIfNoneMatch(rest);
      break;
    case 2:
      FuzzAccept(rest);
      break;
    case 3:
      FuzzFraming(rest);
      break;
    default:
      FuzzQuery(rest);
      break;
  }
  return 0;
}
