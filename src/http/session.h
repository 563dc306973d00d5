// Internal to http/: what a connection's Session needs from the server, and the registry
// that lets Stop() close idle connections and wait for in-flight ones (session_registry.cc).
// Asio only: the Session itself, and Beast with it, is declared in session_impl.h, which
// only session_read.cc and session_write.cc include.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/thread_pool.hpp>

#include "http/access_log.h"
#include "http/metrics.h"
#include "http/router.h"
#include "http/server.h"

namespace pipy::http {

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
};

// Serves HTTP on an accepted socket (whose executor is a strand) until the connection
// ends, or answers 429 and closes it when its address holds too many connections
// (session_registry.cc). The session keeps itself alive through its pending operations.
void StartSession(boost::asio::ip::tcp::socket socket, SessionHost& host);

// Creates the Session for a connection StartSession has counted for `remote` (the
// session releases it when it ends) and starts reading requests (session_read.cc).
void ServeConnection(boost::asio::ip::tcp::socket socket, SessionHost& host, std::string remote);

}  // namespace pipy::http
