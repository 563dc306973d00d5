// The access log: one line per request, buffered so that logging does not dominate the
// throughput of small pages.
#pragma once

#include <memory>

#include <spdlog/logger.h>

namespace pipy::http {

// Returns the logger named "pipy.access". When the program has registered one with
// spdlog, that one is used as is; otherwise one is created that writes to stdout through a
// 64 KiB buffer, written out when full and on flush() (the server flushes it every second
// and when it stops). Thread-safe.
std::shared_ptr<spdlog::logger> AccessLogger();

}  // namespace pipy::http
