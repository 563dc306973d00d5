// ParsePublishBody on any body, streamed in chunks cut at input-derived points:
//   - it never accepts what boost::json's whole-input parse refuses, and the document it
//     builds is that parse minus the attachments' `data` (no `data` is left in it);
//   - the sink receives exactly Base64Decode of the one _attachments.<x>.data string, and
//     `attachments` is {x};
//   - the outcome does not depend on the chunking (same success, document, attachments and
//     sink bytes for every cut);
//   - a sink error is returned as it is.
#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "core/base64.h"
#include "fuzz/fuzz_check.h"
#include "npm/publish_body.h"

namespace {

namespace json = boost::json;
using pipy::fuzz::Check;

// Small limits keep each run fast; the code paths are the same as with the real ones.
pipy::npm::BodyLimits Limits() {
  pipy::npm::BodyLimits limits;
  limits.max_attachment_bytes = 64 * 1024;
  limits.max_document_bytes = 64 * 1024;
  return limits;
}

// The chunk lengths of one way of cutting the input: `cut(k)` is the k-th length (>= 1).
template <typename Cut>
pipy::npm::ChunkReader Reader(std::string_view input, Cut cut) {
  return [input, cut, at = std::size_t{0}, k = std::size_t{0}](
             char* buf, std::size_t n) mutable -> pipy::Result<std::size_t> {
    std::size_t len = std::min({cut(k++), n, input.size() - at});
    std::copy_n(input.data() + at, len, buf);
    at += len;
    return len;
  };
}

struct Run {
  pipy::Result<pipy::npm::PublishBody> result;
  std::string sunk;  // every byte the sink received
};

template <typename Cut>
Run Parse(std::string_view input, Cut cut) {
  Run run{pipy::InvalidArgument("not run"), ""};
  run.result = pipy::npm::ParsePublishBody(
      Reader(input, cut),
      [&run](std::string_view bytes) {
        run.sunk.append(bytes);
        return pipy::Status::Ok();
      },
      Limits());
  return run;
}

// FNV-1a, to seed the cuts from the input.
std::uint64_t Hash(std::string_view s) {
  std::uint64_t h = 1469598103934665603ull;
  for (char c : s) {
    h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
  }
  return h;
}

// The reference: boost::json's parse of the whole input, with the data strings taken out.
struct Reference {
  bool parsed = false;
  json::object stripped;        // the document minus _attachments.<x>.data strings
  std::vector<std::string> names;  // the x of each such data string
  std::vector<std::string> data;   // those strings
};

Reference Expect(std::string_view input) {
  Reference ref;
  json::parse_options options;
  options.max_depth = 64;
  json::error_code ec;
  json::value v = json::parse(input, ec, {}, options);
  if (ec || !v.is_object()) {
    return ref;
  }
  ref.parsed = true;
  ref.stripped = std::move(v.as_object());
  json::value* attachments = ref.stripped.if_contains("_attachments");
  if (attachments == nullptr || !attachments->is_object()) {
    return ref;
  }
  for (auto& [name, attachment] : attachments->as_object()) {
    if (!attachment.is_object()) {
      continue;
    }
    json::value* data = attachment.as_object().if_contains("data");
    if (data != nullptr && data->is_string()) {
      ref.names.emplace_back(name);
      ref.data.emplace_back(data->as_string());
      attachment.as_object().erase("data");
    }
  }
  return ref;
}

// No attachment of the document keeps a `data` field, whatever its type.
bool NoDataLeft(const json::object& document) {
  const json::value* attachments = document.if_contains("_attachments");
  if (attachments == nullptr || !attachments->is_object()) {
    return true;
  }
  for (const auto& [name, attachment] : attachments->as_object()) {
    if (attachment.is_object() && attachment.as_object().contains("data")) {
      return false;
    }
  }
  return true;
}

void CheckSame(const Run& a, const Run& b) {
  Check(a.result.has_value() == b.result.has_value(), "success does not depend on chunking");
  if (!a.result) {
    return;
  }
  Check(a.result->document == b.result->document, "document does not depend on chunking");
  Check(a.result->attachments == b.result->attachments,
        "attachments do not depend on chunking");
  Check(a.sunk == b.sunk, "sink bytes do not depend on chunking");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::uint64_t seed = Hash(input);

  Run whole = Parse(input, [](std::size_t) { return std::size_t(-1); });
  // Lengths 1..16 read off the input's own bytes.
  Run by_bytes = Parse(input, [input, seed](std::size_t k) {
    return input.empty() ? std::size_t{1}
                         : 1 + static_cast<unsigned char>(input[(seed + k * 7) % input.size()]) % 16;
  });
  // Mostly 1..3 bytes, now and then up to 4 KiB: cuts land inside every token.
  Run scattered = Parse(input, [seed](std::size_t k) {
    std::uint64_t r = (seed + k) * 6364136223846793005ull + 1442695040888963407ull;
    r ^= r >> 29;
    return r % 8 == 0 ? std::size_t{1} + r % 4096 : std::size_t{1} + r % 3;
  });
  CheckSame(whole, by_bytes);
  CheckSame(whole, scattered);
  if (!whole.result) {
    return 0;
  }

  const pipy::npm::PublishBody& body = *whole.result;
  Check(body.attachment_bytes == whole.sunk.size(), "attachment_bytes counts the sink's bytes");
  Check(body.attachments.size() <= 1, "at most one attachment");
  Check(NoDataLeft(body.document), "no attachment data is left in the document");
  if (!body.attachments.empty()) {
    // What the publish rules read (npm/publish.cc): the named attachment's entry.
    const json::value* attachments = body.document.if_contains("_attachments");
    Check(attachments != nullptr && attachments->is_object() &&
              attachments->as_object().contains(body.attachments.front()),
          "the attachment named is in the document's _attachments");
  }
  Reference ref = Expect(input);
  Check(ref.parsed, "accepted only what boost::json parses as an object");
  Check(body.document == ref.stripped, "document is the whole-input parse minus the data");
  if (ref.data.size() == 1) {
    std::optional<std::string> decoded = pipy::Base64Decode(ref.data.front());
    Check(decoded.has_value(), "accepted data is canonical base64");
    Check(whole.sunk == *decoded, "sink bytes are Base64Decode of the data");
    Check(body.attachments == ref.names, "attachments names the data's attachment");
  }

  // A sink that fails part-way: its error is the result, exactly.
  if (!whole.sunk.empty()) {
    const std::size_t room = seed % whole.sunk.size();
    std::size_t taken = 0;
    pipy::Result<pipy::npm::PublishBody> failed = pipy::npm::ParsePublishBody(
        Reader(input, [](std::size_t) { return std::size_t(-1); }),
        [&taken, room](std::string_view bytes) {
          taken += bytes.size();
          return taken > room ? pipy::Status(pipy::StatusCode::kUnavailable, "sink full")
                              : pipy::Status::Ok();
        },
        Limits());
    Check(!failed && failed.error().code() == pipy::StatusCode::kUnavailable &&
              failed.error().message() == "sink full",
          "a sink error is returned as it is");
  }
  return 0;
}
