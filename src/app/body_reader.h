// Reading a request body (in memory, or spooled to a file by the server) in chunks or
// whole, for every protocol that takes one (python/'s uploads and yanks, the builder's
// webhook and rebuild API).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "core/status.h"
#include "http/message.h"

namespace pipy::app {

// Fills up to n bytes of `buf` with the next bytes of the body; returns how many, 0 at the
// end of the body. The same type as python::ChunkReader (multipart.h), which stays pure.
using ChunkReader = std::function<Result<std::size_t>(char* buf, std::size_t n)>;

// A reader over `body`, which must outlive it. For a spooled body the file is opened now
// (kInternal when that fails) and closed when the last copy of the reader is destroyed.
Result<ChunkReader> OpenBodyReader(const http::RequestBody& body);

// Reads the whole body when it is at most `max_bytes` (kTooLarge otherwise).
Result<std::string> ReadSmallBody(const http::RequestBody& body, std::uint64_t max_bytes);

}  // namespace pipy::app
