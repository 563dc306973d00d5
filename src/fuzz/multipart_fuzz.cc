// The upload form's multipart/form-data parser (python/multipart.h). The input's first line
// is the Content-Type value, the rest the body:
//   - BoundaryFromContentType: an accepted boundary is 1..70 bchars, not ending in a space;
//   - ParseMultipart: how the reader chunks the body never matters (one byte at a time,
//     odd sizes, and whole give the same form, file bytes or error code);
//   - the file's size is the bytes the sink got, the fields stay within max_fields_bytes
//     (a small limit here, so the limit is reached), and only the file part has_file;
//   - a sink that fails makes the parse fail with its error whenever a file byte arrives.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "fuzz/fuzz_check.h"
#include "fuzz/fuzz_input.h"
#include "python/multipart.h"

namespace {

using pipy::fuzz::Check;
using pipy::python::MultipartForm;
using pipy::python::MultipartLimits;

constexpr std::string_view kBchars =
    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'()+_,-./:=? ";

struct Outcome {
  pipy::Result<MultipartForm> form;
  std::string file;
};

Outcome Parse(std::string_view boundary, std::string_view body, std::size_t piece,
              const MultipartLimits& limits) {
  std::size_t pos = 0;
  auto read = [&](char* buf, std::size_t n) -> pipy::Result<std::size_t> {
    std::size_t k = std::min({n, piece, body.size() - pos});
    std::memcpy(buf, body.data() + pos, k);
    pos += k;
    return k;
  };
  std::string file;
  auto sink = [&file](std::string_view data) {
    file.append(data);
    return pipy::Status::Ok();
  };
  Outcome out{pipy::python::ParseMultipart(boundary, read, sink, "content", limits), {}};
  out.file = std::move(file);
  return out;
}

bool Same(const Outcome& a, const Outcome& b) {
  if (a.form.has_value() != b.form.has_value()) {
    return false;
  }
  if (!a.form.has_value()) {
    return a.form.error().code() == b.form.error().code();
  }
  return a.file == b.file && a.form->fields == b.form->fields &&
         a.form->has_file == b.form->has_file && a.form->file_name == b.form->file_name &&
         a.form->file_size == b.form->file_size;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input = pipy::fuzz::AsText(data, size);
  std::size_t nl = input.find('\n');
  if (nl == std::string_view::npos) {
    return 0;
  }
  auto boundary = pipy::python::BoundaryFromContentType(input.substr(0, nl));
  if (!boundary.has_value()) {
    return 0;
  }
  Check(!boundary->empty() && boundary->size() <= 70 && boundary->back() != ' ',
        "a boundary is 1..70 characters, not ending in a space");
  Check(boundary->find_first_not_of(kBchars) == std::string::npos, "a boundary is bchars");
  std::string_view body = input.substr(nl + 1);

  MultipartLimits limits;
  limits.max_fields_bytes = 256;
  limits.max_part_header_bytes = 512;
  limits.chunk_bytes = 64;
  const Outcome whole = Parse(*boundary, body, body.size() + 1, limits);
  Check(Same(whole, Parse(*boundary, body, 1, limits)), "one byte at a time changes nothing");
  Check(Same(whole, Parse(*boundary, body, 7, limits)), "7-byte pieces change nothing");
  if (whole.form.has_value()) {
    const MultipartForm& form = *whole.form;
    Check(form.file_size == whole.file.size(), "file_size is what the sink got");
    Check(form.has_file || form.file_size == 0, "no file part, no file bytes");
    std::uint64_t field_bytes = 0;
    for (const auto& [name, values] : form.fields) {
      Check(name != "content", "the file part is not a field");
      for (const std::string& value : values) {
        field_bytes += name.size() + value.size();
      }
    }
    Check(field_bytes <= limits.max_fields_bytes, "fields within max_fields_bytes");
  }

  std::size_t pos = 0;
  auto read = [&](char* buf, std::size_t n) -> pipy::Result<std::size_t> {
    std::size_t k = std::min(n, body.size() - pos);
    std::memcpy(buf, body.data() + pos, k);
    pos += k;
    return k;
  };
  auto failing = [](std::string_view) {
    return pipy::Status(pipy::StatusCode::kUnavailable, "sink full");
  };
  auto failed = pipy::python::ParseMultipart(*boundary, read, failing, "content", limits);
  if (whole.form.has_value() && whole.form->file_size > 0) {
    Check(!failed.has_value() && failed.error().code() == pipy::StatusCode::kUnavailable,
          "a failing sink fails the parse");
  }
  return 0;
}
