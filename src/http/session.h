// Internal to http/: what a connection's Session needs from the server, and the registry
// that lets Stop() close idle connections and wait for in-flight ones (session_registry.cc).
// Asio only: the Session itself, and Beast with it, is declared in session_impl.h, which
// only session_read.cc and session_write.cc include.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/thread_pool.hpp>

namespace boost::asio::ssl {
class context;
}  // namespace boost::asio::ssl

#include "http/access_log.h"
#include "http/metrics.h"
#include "http/router.h"
#include "http/server.h"

namespace pipy::http {

// A connection's socket: bound to the io_context of the one thread that serves it (a
// concrete executor, not the type-erased any_io_executor: no copies of a polymorphic
// executor per operation).
using Socket = boost::asio::basic_stream_socket<boost::asio::ip::tcp,
                                                boost::asio::io_context::executor_type>;

// A served connection as the registry sees it (implemented by Session).
class Connection {
 public:
  virtual ~Connection() = default;
  // Closes the connection unless a request is being served. Thread-safe.
  virtual void CloseIfIdle() = 0;
};

struct SessionHost {
  SessionHost(ServerOptions o, const Router& r, Metrics& m)
      : options(std::move(o)),
        router(r),
        metrics(m),
        blocking(static_cast<std::size_t>(std::max(1, options.blocking_threads))) {}

  // A connection starts and ends: Stop() closes it when idle and waits until it is gone.
  void Register(Connection* connection, std::weak_ptr<Connection> weak);
  void Unregister(Connection* connection);
  // Asks every session waiting for a request to close; busy ones close after their
  // response because `stopping` is set.
  void CloseIdleSessions();
  // Waits until no session is left or `timeout` passed; true when none is left.
  bool WaitForSessions(std::chrono::milliseconds timeout);
  // Counts a new connection from `address` against max_connections_per_address: false
  // (and nothing counted) when the address already holds that many.
  bool AcquireConnection(const std::string& address);
  // Ends a connection counted by AcquireConnection.
  void ReleaseConnection(const std::string& address);
  // The TLS context new connections get (null: plain HTTP). Replacing it does not touch
  // open connections: each holds the context it was accepted with. Thread-safe.
  std::shared_ptr<boost::asio::ssl::context> TlsContext() const;
  void SetTlsContext(std::shared_ptr<boost::asio::ssl::context> context);
  // A TLS handshake with `address` failed (a plain-HTTP client, an old protocol, a
  // deadline): counted in pipy_tls_handshake_failures_total; logged, at most one line
  // every few seconds so that a scanner cannot flood the log.
  void TlsHandshakeFailed(const std::string& address, const std::string& reason);

  const ServerOptions options;
  const Router& router;
  Metrics& metrics;
  std::unique_ptr<AccessLog> access_log;  // null: no access log
  std::atomic<bool> stopping{false};
  // Runs blocking handlers and stream reads (ServerOptions::blocking_threads).
  boost::asio::thread_pool blocking;

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::unordered_map<Connection*, std::weak_ptr<Connection>> sessions_;
  std::unordered_map<std::string, int> connections_;  // address -> open connections
  mutable std::mutex tls_mu_;
  std::shared_ptr<boost::asio::ssl::context> tls_;
  std::chrono::steady_clock::time_point tls_logged_{};  // under tls_mu_
  std::uint64_t tls_unlogged_ = 0;                      // failures since, under tls_mu_
};

// Serves HTTP on an accepted socket (on its own io_context's thread) until the connection
// ends, or answers 429 and closes it when its address holds too many connections
// (session_registry.cc). The session keeps itself alive through its pending operations.
void StartSession(Socket socket, SessionHost& host);

// Creates the Session for a connection StartSession has counted for `remote` (the
// session releases it when it ends) and starts reading requests, after the TLS handshake
// when `tls` is not null (session_read.cc).
void ServeConnection(Socket socket, SessionHost& host, std::string remote,
                     std::shared_ptr<boost::asio::ssl::context> tls);

}  // namespace pipy::http
