// Internal to http/ (included by session_impl.h only): the byte stream under a Session,
// plain TCP or TLS over it, chosen per connection at run time, with one deadline for
// whatever operation is in flight. It models Beast's AsyncReadStream and AsyncWriteStream,
// so the parser and asio::async_write use it as they would a tcp_stream; the deadline, the
// socket and close() always act on the TCP layer. One class with a run-time branch rather
// than a Session template: each translation unit that instantiates the Session's Beast
// code costs ~12 s to compile.
//
// The deadline is lazy. Beast's tcp_stream starts and cancels a timer for every read and
// write; a request/response exchange moves its deadline four times, and each move was a
// timer-queue insertion and removal. Here expires_after() only stores the time point; the
// one timer is moved only when the new deadline is earlier than the one it is set for.
// When it fires early it is set again for the current deadline; when the deadline has
// passed it cancels what is pending on the socket (the operation completes with
// operation_aborted, as an I/O error). Every operation the Session starts is preceded by
// expires_after(), so a deadline that passes while nothing is in flight (a handler
// running on the blocking pool) is renewed before the next one.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <utility>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>

#include "http/session.h"

namespace pipy::http {

class Transport {
 public:
  using executor_type = Socket::executor_type;

  // TLS when `tls` is not null (the handshake is still to be done); the stream keeps the
  // context alive.
  Transport(Socket&& socket, std::shared_ptr<boost::asio::ssl::context> tls)
      : tcp_(std::move(socket)), timer_(tcp_.get_executor()), context_(std::move(tls)) {
    if (context_) {
      tls_.emplace(tcp_, *context_);
    }
  }

  // The timer's handler runs only while `owner` (the object holding this transport) lives.
  void set_owner(std::weak_ptr<void> owner) { owner_ = std::move(owner); }

  bool tls() const { return tls_.has_value(); }
  executor_type get_executor() { return tcp_.get_executor(); }
  Socket& socket() { return tcp_; }

  // The operations started from now on must be done within `d`.
  void expires_after(std::chrono::steady_clock::duration d) {
    deadline_ = std::chrono::steady_clock::now() + d;
    if (!armed_ || armed_at_ > deadline_) {
      Arm();
    }
  }

  // Closes the TCP connection at once (no TLS close_notify: see async_shutdown).
  void close() {
    boost::system::error_code ignored;
    tcp_.close(ignored);
    timer_.cancel();
    armed_ = false;
  }

  template <class MutableBuffers, class Handler>
  void async_read_some(const MutableBuffers& buffers, Handler&& handler) {
    if (tls_) {
      tls_->async_read_some(buffers, std::forward<Handler>(handler));
      return;
    }
    tcp_.async_read_some(buffers, std::forward<Handler>(handler));
  }

  template <class ConstBuffers, class Handler>
  void async_write_some(const ConstBuffers& buffers, Handler&& handler) {
    if (tls_) {
      tls_->async_write_some(buffers, std::forward<Handler>(handler));
      return;
    }
    tcp_.async_write_some(buffers, std::forward<Handler>(handler));
  }

  // TLS only: the server side of the handshake.
  template <class Handler>
  void async_handshake(Handler&& handler) {
    tls_->async_handshake(boost::asio::ssl::stream_base::server, std::forward<Handler>(handler));
  }

  // TLS only: sends close_notify and waits for the peer's (bounded by the caller's
  // expires_after), so that a client can tell a complete close-delimited body from a
  // truncated one.
  template <class Handler>
  void async_shutdown(Handler&& handler) {
    tls_->async_shutdown(std::forward<Handler>(handler));
  }

 private:
  void Arm() {
    armed_ = true;
    armed_at_ = deadline_;
    timer_.expires_at(armed_at_);
    timer_.async_wait([this, owner = owner_](boost::system::error_code ec) {
      auto alive = owner.lock();
      if (!alive || ec == boost::asio::error::operation_aborted) {
        return;  // moved (a new wait is pending), closed, or the owner is gone
      }
      armed_ = false;
      if (std::chrono::steady_clock::now() < deadline_) {
        Arm();  // the deadline moved later since this wait began
        return;
      }
      boost::system::error_code ignored;
      tcp_.cancel(ignored);
    });
  }

  Socket tcp_;
  boost::asio::basic_waitable_timer<std::chrono::steady_clock,
                                    boost::asio::wait_traits<std::chrono::steady_clock>,
                                    executor_type>
      timer_;
  std::weak_ptr<void> owner_;
  std::chrono::steady_clock::time_point deadline_ = std::chrono::steady_clock::time_point::max();
  std::chrono::steady_clock::time_point armed_at_{};
  bool armed_ = false;
  std::shared_ptr<boost::asio::ssl::context> context_;
  // Declared after tcp_, which it refers to, so that it is destroyed first.
  std::optional<boost::asio::ssl::stream<Socket&>> tls_;
};

}  // namespace pipy::http
