// Reading one request (RFC 9112): the header under its deadline, the checks that decide
// from the head alone (version, method, target, framing, admission, route, guard, body
// limit), the body (in memory or spooled) under its own deadline, then the handler. See
// session_impl.h for how reading and writing meet.
#include <algorithm>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <boost/asio/buffer.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/field.hpp>
#include <spdlog/spdlog.h>

#include "http/request_line.h"
#include "http/session_impl.h"
#include "http/target.h"

namespace pipy::http {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

namespace {


bool IsParseError(const error_code& ec) {
  static const auto& category = bhttp::make_error_code(bhttp::error::bad_target).category();
  return ec.category() == category && ec != bhttp::error::end_of_stream &&
         ec != bhttp::error::partial_message && ec != bhttp::error::need_more;
}

}  // namespace

void ServeConnection(Socket socket, SessionHost& host, std::string remote,
                     std::shared_ptr<asio::ssl::context> tls) {
  std::make_shared<Session>(std::move(socket), host, std::move(remote), std::move(tls))->Start();
}

Session::Session(Socket&& socket, SessionHost& host, std::string remote,
                 std::shared_ptr<asio::ssl::context> tls)
    : stream_(std::move(socket), std::move(tls)), host_(host), remote_(std::move(remote)) {}

Session::~Session() {
  host_.Unregister(this);
  host_.ReleaseConnection(remote_);
}

void Session::Start() {
  host_.Register(this, weak_from_this());
  stream_.set_owner(weak_from_this());
  asio::dispatch(stream_.get_executor(), [self = shared_from_this()] {
    if (self->stream_.tls()) {
      self->Handshake();
      return;
    }
    self->WaitForRequest();
  });
}

// The whole handshake must be done within header_timeout: a client that connects and
// never speaks TLS holds the connection no longer than one that never sends a header.
void Session::Handshake() {
  if (host_.stopping.load()) {
    stream_.close();
    return;
  }
  stream_.expires_after(host_.options.header_timeout);
  stream_.async_handshake([self = shared_from_this()](error_code ec) {
    if (ec) {
      self->host_.TlsHandshakeFailed(self->remote_, ec.message());
      self->stream_.close();
      return;
    }
    self->tls_up_ = true;
    self->WaitForRequest();
  });
}

void Session::CloseIfIdle() {
  asio::dispatch(stream_.get_executor(), [self = shared_from_this()] {
    if (self->idle_) {
      self->stream_.close();
    }
  });
}

void Session::ResetRequest() {
  request_ = Request();
  route_ = nullptr;
  response_ = Response();
  spool_.Reset();
  version_ = 11;
  close_after_ = false;
  keep_alive_ = false;
  direct_ = false;
  chunked_ = false;
  body_read_ = 0;
  max_body_ = 0;
  bytes_ = 0;
  file_sent_ = 0;
}

void Session::WaitForRequest() {
  if (host_.stopping.load()) {
    Close();
    return;
  }
  idle_ = true;
  ResetRequest();
  if (first_ || buffer_.size() > 0) {
    // A new connection, or a pipelined request already buffered: the header deadline runs.
    first_ = false;
    ReadHeader();
    return;
  }
  // Keep-alive: wait up to idle_timeout for the first byte, then the header deadline runs.
  // (Asio reads at once only when the last read filled its buffer; after a short read it
  // waits for the socket's next edge, without an empty read.)
  stream_.expires_after(host_.options.idle_timeout);
  stream_.async_read_some(buffer_.prepare(kIdleReadBytes),
                          [self = shared_from_this()](error_code ec, std::size_t n) {
                            if (ec) {
                              self->Close();
                              return;
                            }
                            self->buffer_.commit(n);
                            self->ReadHeader();
                          });
}

std::size_t Session::HeadReadBytes() const {
  return std::clamp<std::size_t>(buffer_.capacity() - buffer_.size(), kMinReadBytes,
                                 kChunkBytes);
}

void Session::ReadHeader() {
  parser_.emplace();
  parser_->header_limit(static_cast<std::uint32_t>(host_.options.max_header_bytes));
  parser_->body_limit(boost::none);  // checked per route once the header is known
  stream_.expires_after(host_.options.header_timeout);
  ParseHeader();
}

// Parses the head from what is buffered and reads more until it is complete (Beast's
// async_read_header, unrolled: a head that arrived whole, the usual case, is parsed at
// once, without a composed operation and its posted completion).
void Session::ParseHeader() {
  while (buffer_.size() > 0) {
    error_code ec;
    std::size_t used = parser_->put(buffer_.data(), ec);
    buffer_.consume(used);
    if (ec == bhttp::error::need_more) {
      break;
    }
    if (ec || parser_->is_header_done()) {
      OnHeader(ec);
      return;
    }
    if (used == 0) {
      break;
    }
  }
  stream_.async_read_some(buffer_.prepare(HeadReadBytes()),
                          [self = shared_from_this()](error_code ec, std::size_t n) {
                            if (ec) {
                              // End of stream, reset, the header deadline (a slow
                              // client) or Stop(): just close.
                              self->Close();
                              return;
                            }
                            self->buffer_.commit(n);
                            self->ParseHeader();
                          });
}

void Session::OnHeader(error_code ec) {
  start_ = std::chrono::steady_clock::now();
  idle_ = false;
  if (ec) {
    OnHeaderError(ec);
    return;
  }
  auto& msg = parser_->get();
  request_.method = std::string(msg.method_string());
  request_.target = std::string(msg.target());
  bool body_follows = !parser_->is_done();
  if (msg.version() != 10 && msg.version() != 11) {
    SendError(505, "HTTP version not supported", true);
    return;
  }
  version_ = msg.version();
  if (!IsKnownMethod(request_.method)) {
    SendError(501, "method not implemented", true);
    return;
  }
  Result<ParsedTarget> target = ParseTarget(request_.target);
  if (!target.has_value()) {
    SendError(400, target.error().message(), true);
    return;
  }
  request_.path = std::move(target->path);
  request_.query = std::move(target->query);
  request_.remote_address = remote_;
  request_.tls = stream_.tls();
  Framing framing;
  framing.version = version_;
  for (const auto& field : msg) {
    request_.headers.push_back(Header{std::string(field.name_string()), std::string(field.value())});
    if (field.name() == bhttp::field::host) {
      ++framing.host_fields;
    } else if (field.name() == bhttp::field::transfer_encoding) {
      framing.transfer_encoding.push_back(field.value());
    } else if (field.name() == bhttp::field::content_length) {
      framing.content_length = true;
    }
  }
  if (Status framed = CheckFraming(framing); !framed.ok()) {
    SendError(400, framed.message(), true);  // where this request ends is unknown: close
    return;
  }

  Router::Match match = host_.router.Find(request_.method, request_.path);
  if ((match.route == nullptr || !match.route->options.open_to_all) && !Admitted(body_follows)) {
    return;
  }
  if (match.route == nullptr) {
    if (match.method_mismatch) {
      Response r = TextResponse(405, "method not allowed\n");
      r.SetHeader("Allow", std::move(match.allow));
      close_after_ = body_follows;
      SendResponse(std::move(r));
      return;
    }
    SendError(404, "not found", body_follows);
    return;
  }
  route_ = match.route;
  request_.params = std::move(match.params);

  if (route_->options.guard) {
    std::optional<Response> rejected;
    try {
      rejected = route_->options.guard(request_);
    } catch (const std::exception& e) {
      spdlog::error("http: guard of {} threw: {}", route_->pattern, e.what());
      rejected = TextResponse(500, "internal error\n");
    }
    if (rejected.has_value()) {
      close_after_ = body_follows;  // the body is not read: this connection cannot go on
      SendResponse(std::move(*rejected));
      return;
    }
  }
  if (!body_follows) {
    CallHandler();
    return;
  }
  max_body_ = route_->options.max_body_bytes;
  if (auto length = parser_->content_length(); length.has_value() && *length > max_body_) {
    SendError(413, TooLargeDetail(), true);
    return;
  }
  parser_->body_limit(max_body_);  // chunked bodies are checked as they arrive
  auto expect = msg.find(bhttp::field::expect);
  if (expect != msg.end() && EqualsIgnoreCase(expect->value(), "100-continue") && version_ == 11) {
    // RFC 9110 section 10.1.1: the checks passed, so ask for the body.
    static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
    stream_.expires_after(BodyTimeout());
    asio::async_write(stream_, asio::buffer(kContinue.data(), kContinue.size()),
                      [self = shared_from_this()](error_code ec, std::size_t) {
                        if (ec) {
                          self->Close();
                          return;
                        }
                        self->StartBody();
                      });
    return;
  }
  StartBody();
}

// Applies ServerOptions::admission; false when it answered (the body is then never read).
bool Session::Admitted(bool body_follows) {
  if (!host_.options.admission) {
    return true;
  }
  std::optional<Response> rejected;
  try {
    rejected = host_.options.admission(request_);
  } catch (const std::exception& e) {
    spdlog::error("http: admission check threw: {}", e.what());
    rejected = TextResponse(500, "internal error\n");
  }
  if (!rejected.has_value()) {
    return true;
  }
  close_after_ = body_follows;
  SendResponse(std::move(*rejected));
  return false;
}

std::chrono::milliseconds Session::BodyTimeout() const {
  if (max_body_ <= host_.options.small_body_bytes) {
    return std::min(host_.options.small_body_timeout, host_.options.body_timeout);
  }
  return host_.options.body_timeout;
}

void Session::OnHeaderError(error_code ec) {
  if (ec == bhttp::error::header_limit) {
    SendError(431, "request header fields too large", true);
    return;
  }
  if (ec == bhttp::error::bad_version) {
    // Beast also reports a malformed request line (e.g. bare LF endings) as bad_version:
    // only a well-formed "HTTP/x[.y]" token is an unsupported version.
    auto data = buffer_.data();
    std::string_view received(static_cast<const char*>(data.data()), data.size());
    if (IsWellFormedVersionLine(received)) {
      SendError(505, "HTTP version not supported", true);
    } else {
      SendError(400, "malformed request line", true);
    }
    return;
  }
  if (IsParseError(ec)) {
    SendError(400, ec.message(), true);
    return;
  }
  // End of stream, reset, header deadline (a slow client) or Stop(): just close.
  Close();
}

void Session::StartBody() {
  stream_.expires_after(BodyTimeout());  // for the whole body
  parser_->eager(true);
  auto length = parser_->content_length();
  if (length.has_value() && *length <= host_.options.spool_threshold_bytes) {
    request_.body.memory.resize(*length);
    direct_ = true;
  } else {
    if (!chunk_buf_) {
      chunk_buf_ = std::make_unique<char[]>(kChunkBytes);
    }
    if (length.has_value()) {
      if (Status s = spool_.Create(host_.options.spool_dir); !s.ok()) {
        spdlog::error("http: {}", s.ToString());
        SendResponse(ErrorResponse(s));
        close_after_ = true;
        return;
      }
    }
  }
  ReadBodySome();
}

void Session::ReadBodySome() {
  auto& body = parser_->get().body();
  if (direct_) {
    body.data = request_.body.memory.data() + body_read_;
    body.size = request_.body.memory.size() - body_read_;
    if (body.size == 0) {
      SendError(400, "body longer than its Content-Length", true);
      return;
    }
  } else {
    body.data = chunk_buf_.get();
    body.size = kChunkBytes;
  }
  body.more = true;
  last_size_ = body.size;
  ParseBody();
}

// Feeds what is buffered to the parser and reads more when it needs more (Beast's
// async_read, unrolled so that a stalled chunked body can be looked at: Beast skips a bare
// LF and would wait for a CR until the deadline).
void Session::ParseBody() {
  while (buffer_.size() > 0) {
    error_code ec;
    std::size_t used = parser_->put(buffer_.data(), ec);
    buffer_.consume(used);
    if (ec == bhttp::error::need_more) {
      break;
    }
    if (ec || parser_->is_done()) {
      OnBody(ec);  // need_buffer (the body piece is full), the end, or a parse error
      return;
    }
    if (used == 0) {
      break;
    }
  }
  if (parser_->chunked() && buffer_.size() > 0) {
    // Only a chunk-size line or a trailer is left unparsed here.
    auto data = buffer_.data();
    std::string_view unparsed(static_cast<const char*>(data.data()), data.size());
    if (HasBareLineFeed(unparsed)) {
      SendError(400, "chunked body: a line not ended by CRLF", true);
      return;
    }
    if (unparsed.size() > kChunkBytes) {
      SendError(400, "chunked body: chunk header too long", true);
      return;
    }
  }
  stream_.async_read_some(buffer_.prepare(kChunkBytes),
                          [self = shared_from_this()](error_code ec, std::size_t n) {
                            if (ec) {
                              self->Close();  // the peer went away or the deadline passed
                              return;
                            }
                            self->buffer_.commit(n);
                            self->ParseBody();
                          });
}

void Session::OnBody(error_code ec) {
  if (ec == bhttp::error::need_buffer) {
    ec = {};
  }
  if (ec == bhttp::error::body_limit) {
    SendError(413, TooLargeDetail(), true);
    return;
  }
  if (ec) {
    if (IsParseError(ec)) {
      SendError(400, ec.message(), true);
    } else {
      Close();  // the peer went away or the body deadline passed
    }
    return;
  }
  std::size_t n = last_size_ - parser_->get().body().size;
  body_read_ += n;
  if (body_read_ > max_body_) {
    SendError(413, TooLargeDetail(), true);
    return;
  }
  if (!direct_) {
    if (Status s = StoreChunk(chunk_buf_.get(), n); !s.ok()) {
      spdlog::error("http: {}", s.ToString());
      SendResponse(ErrorResponse(s));
      close_after_ = true;
      return;
    }
  }
  if (!parser_->is_done()) {
    ReadBodySome();
    return;
  }
  request_.body.size = body_read_;
  if (spool_.active()) {
    spool_.CloseFd();
    request_.body.file = spool_.path();
  }
  CallHandler();
}

Status Session::StoreChunk(const char* data, std::size_t n) {
  if (!spool_.active()) {
    std::string& memory = request_.body.memory;
    if (memory.size() + n <= host_.options.spool_threshold_bytes) {
      memory.append(data, n);
      return Status::Ok();
    }
    PIPY_RETURN_IF_ERROR(spool_.Create(host_.options.spool_dir));
    PIPY_RETURN_IF_ERROR(spool_.Write(memory.data(), memory.size()));
    std::string().swap(memory);
  }
  return spool_.Write(data, n);
}

// Runs `fn` (the route's handler or a continuation it returned), turning an exception into
// a 500.
Response Session::Guarded(const std::function<Response()>& fn) {
  try {
    return fn();
  } catch (const std::exception& e) {
    spdlog::error("http: handler of {} threw: {}", route_->pattern, e.what());
  } catch (...) {
    spdlog::error("http: handler of {} threw a non-exception", route_->pattern);
  }
  return TextResponse(500, "internal error\n");
}

Response Session::RunHandler() {
  return Guarded([this] { return route_->handler(request_); });
}

void Session::CallHandler() {
  if (!route_->options.blocking) {
    Response response = RunHandler();
    if (!response.continue_blocking) {
      SendResponse(std::move(response));
      return;
    }
    ContinueBlocking(std::move(response.continue_blocking));
    return;
  }
  ContinueBlocking([self = shared_from_this()] { return self->RunHandler(); });
}

// Runs `fn` off the I/O threads, then sends its response from the connection's thread.
// The session is idle meanwhile (nothing else touches request_ until then).
void Session::ContinueBlocking(std::function<Response()> fn) {
  asio::post(host_.blocking, [self = shared_from_this(), fn = std::move(fn)] {
    auto response = std::make_shared<Response>(self->Guarded(fn));
    while (response->continue_blocking) {
      auto next = std::move(response->continue_blocking);
      *response = self->Guarded(next);
    }
    asio::post(self->stream_.get_executor(),
               [self, response] { self->SendResponse(std::move(*response)); });
  });
}

}  // namespace pipy::http
