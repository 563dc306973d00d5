#include "http/request_line.h"

#include "core/strings.h"

namespace pipy::http {

bool IsKnownMethod(std::string_view m) {
  static constexpr std::string_view kMethods[] = {"GET",     "HEAD",    "POST",  "PUT",  "DELETE",
                                                  "CONNECT", "OPTIONS", "TRACE", "PATCH"};
  for (std::string_view k : kMethods) {
    if (k == m) {
      return true;
    }
  }
  return false;
}

bool IsWellFormedVersionLine(std::string_view received) {
  std::size_t eol = received.find("\r\n");
  if (eol == std::string_view::npos) {
    return false;
  }
  std::string_view line = received.substr(0, eol);
  std::size_t space = line.rfind(' ');
  if (space == std::string_view::npos) {
    return false;
  }
  std::string_view version = line.substr(space + 1);
  if (!version.starts_with("HTTP/")) {
    return false;
  }
  version.remove_prefix(5);
  bool digits = false;
  bool dot = false;
  for (char c : version) {
    if (c >= '0' && c <= '9') {
      digits = true;
    } else if (c == '.' && digits && !dot) {
      dot = true;
      digits = false;
    } else {
      return false;
    }
  }
  return digits;
}

Status CheckFraming(const Framing& framing) {
  if (framing.host_fields > 1) {
    return InvalidArgument("more than one Host header");
  }
  if (framing.host_fields == 0 && framing.version == 11) {
    return InvalidArgument("an HTTP/1.1 request needs a Host header");
  }
  if (framing.transfer_encoding.empty()) {
    return Status::Ok();
  }
  if (framing.version == 10) {
    return InvalidArgument("Transfer-Encoding in an HTTP/1.0 request");
  }
  if (framing.content_length) {
    return InvalidArgument("both Transfer-Encoding and Content-Length");
  }
  std::size_t codings = 0;
  for (std::string_view value : framing.transfer_encoding) {
    for (std::string_view coding : SplitAscii(value, ',')) {
      coding = TrimSpacesAndTabs(coding);
      if (coding.empty()) {
        continue;  // RFC 9110 section 5.6.1: empty list elements are ignored
      }
      if (!EqualsIgnoreCase(coding, "chunked")) {
        return InvalidArgument("unsupported transfer coding (only chunked is accepted)");
      }
      ++codings;
    }
  }
  if (codings != 1) {
    return InvalidArgument("Transfer-Encoding must be chunked, applied once");
  }
  return Status::Ok();
}

bool HasBareLineFeed(std::string_view unparsed) {
  for (std::size_t i = 0; i < unparsed.size(); ++i) {
    if (unparsed[i] == '\n' && (i == 0 || unparsed[i - 1] != '\r')) {
      return true;
    }
  }
  return false;
}

}  // namespace pipy::http
