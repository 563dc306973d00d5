// Internal to http/ (included by session_impl.h only): the byte stream under a Session,
// plain TCP or TLS over it, chosen per connection at run time. It models Beast's
// AsyncReadStream and AsyncWriteStream, so the parser and asio::async_write use it as
// they use a tcp_stream; timeouts, the socket and close() always act on the TCP layer.
// One class with a run-time branch rather than a Session template: each translation unit
// that instantiates the Session's Beast code costs ~12 s to compile.
#pragma once

#include <memory>
#include <optional>
#include <utility>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/tcp_stream.hpp>

namespace pipy::http {

class Transport {
 public:
  using executor_type = boost::beast::tcp_stream::executor_type;

  // TLS when `tls` is not null (the handshake is still to be done); the stream keeps the
  // context alive.
  Transport(boost::asio::ip::tcp::socket&& socket,
            std::shared_ptr<boost::asio::ssl::context> tls)
      : tcp_(std::move(socket)), context_(std::move(tls)) {
    if (context_) {
      tls_.emplace(tcp_, *context_);
    }
  }

  bool tls() const { return tls_.has_value(); }
  executor_type get_executor() { return tcp_.get_executor(); }
  boost::beast::tcp_stream& tcp() { return tcp_; }
  boost::asio::ip::tcp::socket& socket() { return tcp_.socket(); }
  template <class Duration>
  void expires_after(Duration d) {
    tcp_.expires_after(d);
  }
  // Closes the TCP connection at once (no TLS close_notify: see async_shutdown).
  void close() { tcp_.close(); }

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
  boost::beast::tcp_stream tcp_;
  std::shared_ptr<boost::asio::ssl::context> context_;
  // Declared after tcp_, which it refers to, so that it is destroyed first.
  std::optional<boost::asio::ssl::stream<boost::beast::tcp_stream&>> tls_;
};

}  // namespace pipy::http
