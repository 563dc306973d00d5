// The HTTP/1.1 server (Boost.Beast underneath; see server.cc).
//
// Shape (after Beast's advanced server): a listener accepts connections; each session
// reads a request header under a deadline, matches a route, enforces the header cap (431)
// and the route's body limit (413), runs the route's guard, reads the body (spooled to a
// temp file above a threshold), calls the handler on one of the pool's threads and writes
// the response (sendfile for FileBody). Keep-alive and pipelining are supported; an idle
// connection is closed after `idle_timeout`. With a certificate and key (tls_cert,
// tls_key) the server speaks HTTPS only: TLS 1.2 or later, the handshake under the header
// deadline; ReloadTls() swaps the certificate for new connections while open ones go on.
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
  // Threads for work that may block for long (routes marked `blocking`, reads of a
  // StreamBody), so the I/O threads never wait on a network or a disk sync.
  int blocking_threads = 16;
  // Decides from the request head alone, before routing and before any body byte is read,
  // whether the caller may talk to the server at all (the address allowlist): a response
  // to answer at once, or nullopt. Not applied to routes marked open_to_all. Optional.
  Guard admission = nullptr;
  // Routes whose body limit is at most small_body_bytes (JSON APIs, webhooks) must send
  // the whole body within small_body_timeout: a client dripping a tiny body holds a
  // connection for seconds, not for body_timeout.
  std::uint64_t small_body_bytes = 1 << 20;
  std::chrono::milliseconds small_body_timeout{10'000};
  // Open connections one client address may hold; the next ones get 429 and are closed
  // before anything is read. 0 = no limit.
  int max_connections_per_address = 128;
  // How long Stop() lets in-flight requests finish before it cuts them off.
  std::chrono::milliseconds stop_grace{5'000};
  // HTTPS only when both are set: the PEM certificate (then its chain) and the PEM private
  // key (see tls.h). Both empty: plain HTTP. One alone is an error at Start().
  std::filesystem::path tls_cert;
  std::filesystem::path tls_key;
};

// Loads a TLS certificate and key as Start() and ReloadTls() do, and drops them: for a
// check before start-up. The error names the file at fault.
Status CheckTlsFiles(const std::filesystem::path& cert, const std::filesystem::path& key);

// Typical use (main): Start(); run Run() on the main thread; stop from a signal thread:
//
//   sigset_t set;  // SIGTERM, SIGINT, blocked in main before any thread starts
//   std::thread waiter([&] { int sig; sigwait(&set, &sig); server.Stop(); });
//   server.Run();
//   waiter.join();
//
// Handlers run on the I/O threads and may block briefly. The access log ("pipy.access",
// see access_log.h) goes to stdout unless the program registered its own logger.
class Server {
 public:
  // `router` and `metrics` must outlive the server.
  Server(ServerOptions options, const Router& router, Metrics& metrics);
  // Run() must have returned (after Stop()) before the server is destroyed.
  ~Server();

  // Binds (SO_REUSEADDR) and listens on options.listen ("127.0.0.1:0", "[::1]:8080",
  // "0.0.0.0:8080", or a host name); returns the bound port. Errors (address in use, bad
  // address, no spool_dir, an unreadable or invalid TLS certificate or key, named in the
  // message) are returned, not thrown.
  Result<int> Start();
  // Reads options.tls_cert and tls_key again (after they were replaced, e.g. on SIGHUP):
  // connections accepted from now on use the new pair; open ones keep theirs. On an error
  // (naming the file) the current pair stays in use. InvalidArgument without TLS.
  // Thread-safe.
  Status ReloadTls();
  // Whether the server speaks HTTPS (both tls_cert and tls_key set).
  bool tls() const;
  // Runs the I/O threads until Stop(); returns when all have finished.
  void Run();
  // Stops accepting, closes idle connections, lets in-flight requests finish (up to
  // options.stop_grace), then makes Run() return; returns after that. Safe to call from
  // another thread (e.g. a signal-waiting thread), and more than once; not from inside a
  // handler.
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace pipy::http
