// The host's registry of open connections (for Stop() and the per-address cap) and the
// start of a connection. Beast-free: the Session is created in session_read.cc.
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/write.hpp>
#include <spdlog/spdlog.h>

#include "http/session.h"

namespace pipy::http {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

namespace {

std::string PeerAddress(const Socket& socket) {
  error_code ec;
  tcp::endpoint peer = socket.remote_endpoint(ec);
  if (ec) {
    return "-";
  }
  asio::ip::address address = peer.address();
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    return asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6()).to_string();
  }
  return address.to_string();
}

}  // namespace

void SessionHost::Register(Connection* connection, std::weak_ptr<Connection> weak) {
  std::lock_guard lock(mu_);
  sessions_.emplace(connection, std::move(weak));
}

void SessionHost::Unregister(Connection* connection) {
  std::lock_guard lock(mu_);
  sessions_.erase(connection);
  if (sessions_.empty()) {
    cv_.notify_all();
  }
}

void SessionHost::CloseIdleSessions() {
  std::vector<std::shared_ptr<Connection>> alive;
  {
    std::lock_guard lock(mu_);
    for (auto& [raw, weak] : sessions_) {
      if (auto s = weak.lock()) {
        alive.push_back(std::move(s));
      }
    }
  }
  for (auto& s : alive) {
    s->CloseIfIdle();
  }
}

bool SessionHost::WaitForSessions(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [this] { return sessions_.empty(); });
}

bool SessionHost::AcquireConnection(const std::string& address) {
  std::lock_guard lock(mu_);
  int& open = connections_[address];
  if (options.max_connections_per_address > 0 && open >= options.max_connections_per_address) {
    if (open == 0) {
      connections_.erase(address);
    }
    return false;
  }
  ++open;
  return true;
}

void SessionHost::ReleaseConnection(const std::string& address) {
  std::lock_guard lock(mu_);
  auto it = connections_.find(address);
  if (it != connections_.end() && --it->second <= 0) {
    connections_.erase(it);
  }
}

std::shared_ptr<boost::asio::ssl::context> SessionHost::TlsContext() const {
  std::lock_guard lock(tls_mu_);
  return tls_;
}

void SessionHost::SetTlsContext(std::shared_ptr<boost::asio::ssl::context> context) {
  std::lock_guard lock(tls_mu_);
  tls_ = std::move(context);
}

void SessionHost::TlsHandshakeFailed(const std::string& address, const std::string& reason) {
  static constexpr auto kLogEvery = std::chrono::seconds(10);
  metrics.Increment("pipy_tls_handshake_failures_total", {});
  std::uint64_t unlogged = 0;
  {
    std::lock_guard lock(tls_mu_);
    auto now = std::chrono::steady_clock::now();
    if (tls_logged_ != std::chrono::steady_clock::time_point{} && now - tls_logged_ < kLogEvery) {
      ++tls_unlogged_;
      return;
    }
    tls_logged_ = now;
    unlogged = tls_unlogged_;
    tls_unlogged_ = 0;
  }
  if (unlogged > 0) {
    spdlog::warn("http: TLS handshake with {} failed: {} ({} more failures not logged)", address,
                 reason, unlogged);
    return;
  }
  spdlog::warn("http: TLS handshake with {} failed: {}", address, reason);
}

void StartSession(Socket socket, SessionHost& host) {
  error_code ignored;
  std::string remote = PeerAddress(socket);
  std::shared_ptr<boost::asio::ssl::context> tls = host.TlsContext();
  if (!host.AcquireConnection(remote)) {
    if (tls) {
      // No plain-text answer on a TLS port: the client could not read it.
      socket.close(ignored);
      host.metrics.ObserveRequest("connection_limit", 429, 0, 0);
      return;
    }
    // Answered before anything is read, on the still-blocking socket: the head fits in
    // an empty send buffer.
    static constexpr std::string_view kTooMany =
        "HTTP/1.1 429 Too Many Requests\r\nServer: pipy\r\nRetry-After: 1\r\n"
        "Content-Type: text/plain; charset=utf-8\r\nContent-Length: 39\r\n"
        "Connection: close\r\n\r\ntoo many connections from this address\n";
    asio::write(socket, asio::buffer(kTooMany.data(), kTooMany.size()), ignored);
    socket.shutdown(tcp::socket::shutdown_send, ignored);
    socket.close(ignored);
    host.metrics.ObserveRequest("connection_limit", 429, 0, 0);
    return;
  }
  socket.set_option(tcp::no_delay(true), ignored);
  // sendfile(2) must not block the I/O thread, and a read after a wait for input must
  // return would_block rather than wait.
  socket.non_blocking(true, ignored);
  ServeConnection(std::move(socket), host, std::move(remote), std::move(tls));
}

}  // namespace pipy::http
