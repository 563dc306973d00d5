// Internal to http/: what a connection's Session needs from the server, and the registry
// that lets Stop() close idle connections and wait for in-flight ones. Asio only; Beast
// stays in session.cc.
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

class Session;

struct SessionHost {
  SessionHost(ServerOptions o, const Router& r, Metrics& m)
      : options(std::move(o)),
        router(r),
        metrics(m),
        blocking(static_cast<std::size_t>(std::max(1, options.blocking_threads))) {}

  void Register(Session* session, std::weak_ptr<Session> weak);
  void Unregister(Session* session);
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
  std::unordered_map<Session*, std::weak_ptr<Session>> sessions_;
  std::unordered_map<std::string, int> connections_;  // address -> open connections
};

// Serves HTTP on an accepted socket (whose executor is a strand) until the connection
// ends. The session keeps itself alive through its pending operations.
void StartSession(boost::asio::ip::tcp::socket socket, SessionHost& host);

}  // namespace pipy::http
