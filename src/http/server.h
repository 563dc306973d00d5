// The HTTP/1.1 server (Boost.Beast underneath; see server.cc).
//
// Shape (after Beast's advanced server): a listener accepts connections; each session
// reads a request header under a deadline, matches a route, enforces the header cap (431)
// and the route's body limit (413), runs the route's guard, reads the body (spooled to a
// temp file above a threshold), calls the handler on one of the pool's threads and writes
// the response (sendfile for FileBody). Keep-alive and pipelining are supported; an idle
// connection is closed after `idle_timeout`.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "core/status.h"
#include "http/metrics.h"
#include "http/router.h"

namespace pipy::http {

struct ServerOptions {
  std::string listen = "127.0.0.1:8080";   // HOST:PORT; port 0 picks a free one
  int threads = 0;                         // 0 = number of cores
  std::size_t max_header_bytes = 16 * 1024;              // 431 above it
  std::chrono::milliseconds header_timeout{10'000};     // whole header must arrive in time
  std::chrono::milliseconds idle_timeout{60'000};       // keep-alive idle limit
  std::chrono::milliseconds body_timeout{300'000};      // whole body must arrive in time
  std::uint64_t spool_threshold_bytes = 256 * 1024;     // larger bodies go to a temp file
  std::filesystem::path spool_dir;                       // where temp bodies go (required)
  bool access_log = true;                                // one line per request
};

class Server {
 public:
  // `router` and `metrics` must outlive the server.
  Server(ServerOptions options, const Router& router, Metrics& metrics);
  ~Server();

  // Binds and listens; returns the bound port. Errors (address in use, bad address) are
  // returned, not thrown.
  Result<int> Start();
  // Runs the I/O threads until Stop(); returns when all have finished.
  void Run();
  // Stops accepting, lets in-flight requests finish (up to a few seconds), then returns
  // from Run(). Safe to call from a signal-handling thread.
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace pipy::http
