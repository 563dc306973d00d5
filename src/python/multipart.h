// A streaming multipart/form-data parser (RFC 7578 over RFC 2046 section 5.1), for twine's
// upload form. Memory stays bounded whatever the body size: the body is pulled from a
// reader in chunks, ordinary fields are kept in memory under a total cap, and the file part
// is handed to a sink piece by piece (the caller writes it to a temp file).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace pipy::python {

// Fills up to n bytes of `buf` with the next bytes of the body; returns how many, 0 at the
// end of the body.
using ChunkReader = std::function<Result<std::size_t>(char* buf, std::size_t n)>;
// Receives the next bytes of the file part; a non-OK status aborts the parse with it.
using FileSink = std::function<Status(std::string_view data)>;

struct MultipartLimits {
  std::uint64_t max_fields_bytes = 8 * 1024 * 1024;  // names + values of non-file parts
  std::size_t max_part_header_bytes = 16 * 1024;     // one part's header block
  std::size_t chunk_bytes = 64 * 1024;               // how much to ask the reader for at once
};

struct MultipartForm {
  // Non-file parts (and file parts other than the streamed one), by name, in body order.
  std::map<std::string, std::vector<std::string>> fields;
  bool has_file = false;        // the streamed part was present
  std::string file_name;        // its Content-Disposition filename (may be empty)
  std::uint64_t file_size = 0;  // bytes passed to the sink

  // The first value of field `name`, or nullopt.
  std::optional<std::string_view> Get(std::string_view name) const;
};

// Extracts the boundary from a Content-Type value such as
// `multipart/form-data; boundary="----abc"` (quoted or not). kInvalidArgument when the type
// is not multipart/form-data or the boundary is missing or invalid (RFC 2046: 1-70
// characters from the bchars set, not ending in a space).
Result<std::string> BoundaryFromContentType(std::string_view content_type);

// Parses a whole multipart body read from `read`. The part named `file_field` is streamed
// to `sink`; every other part is collected into MultipartForm::fields.
// Errors (kInvalidArgument unless noted, each with a message naming the problem): an empty
// boundary; a body without any boundary line; a malformed boundary line; a part without
// Content-Disposition, with a disposition other than form-data or without a name; a part
// header block over the limit; a body that ends before the final boundary ("truncated");
// two parts named `file_field`; fields over max_fields_bytes (kTooLarge). Errors from the
// reader and the sink are returned as they are.
Result<MultipartForm> ParseMultipart(std::string_view boundary, const ChunkReader& read,
                                     const FileSink& sink, std::string_view file_field = "content",
                                     const MultipartLimits& limits = {});

}  // namespace pipy::python
