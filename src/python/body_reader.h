// Reading a request body (in memory or spooled to a file by the server) in chunks.
#pragma once

#include <cstdint>
#include <string>

#include "core/status.h"
#include "http/message.h"
#include "python/multipart.h"

namespace pipy::python {

// A reader over `body`, which must outlive it. For a spooled body the file is opened now
// (kInternal when that fails) and closed when the last copy of the reader is destroyed.
Result<ChunkReader> OpenBodyReader(const http::RequestBody& body);

// Reads the whole body when it is at most `max_bytes` (kTooLarge otherwise).
Result<std::string> ReadSmallBody(const http::RequestBody& body, std::uint64_t max_bytes);

}  // namespace pipy::python
