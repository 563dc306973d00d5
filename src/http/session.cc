// One HTTP/1.1 connection (RFC 9112), after Beast's advanced server session: Beast parses
// the request (header under a deadline, header size capped, then the body under its own
// deadline); the response head is serialized by wire.cc and written together with an
// in-memory body in one gather write; files go out with sendfile(2), streams in chunks.
// Everything for one connection runs on its strand; the handler runs on the I/O thread
// that read the request (no hand-off), unless its route is marked blocking: then it runs
// on the blocking pool, as every StreamBody read does. The only translation unit that
// includes Beast.
#include "http/session.h"

#include <fcntl.h>
#include <sys/sendfile.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <optional>
#include <random>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "http/request_line.h"
#include "http/spool_file.h"
#include "http/target.h"
#include "http/wire.h"

namespace pipy::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

namespace {

constexpr std::size_t kChunkBytes = 64 * 1024;
// A StreamBody is read in larger pieces: each read is a round trip to the blocking pool
// (and often a wait on a network), so fewer, bigger reads move more bytes per hop.
constexpr std::size_t kStreamChunkBytes = 512 * 1024;
constexpr std::size_t kIdleReadBytes = 4096;
// Bytes one download may send per turn before yielding its thread to other connections.
constexpr std::uint64_t kSendfileSlice = 4 << 20;
// After an error response with unread input, how long the input is drained before the
// socket closes, so that the peer reads the response instead of a reset.
constexpr auto kLingerTime = std::chrono::seconds(2);

std::string PeerAddress(const tcp::socket& socket) {
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

bool IsParseError(const error_code& ec) {
  static const auto& category = bhttp::make_error_code(bhttp::error::bad_target).category();
  return ec.category() == category && ec != bhttp::error::end_of_stream &&
         ec != bhttp::error::partial_message && ec != bhttp::error::need_more;
}

}  // namespace

class Session : public std::enable_shared_from_this<Session> {
 public:
  // `remote` was counted by SessionHost::AcquireConnection; the session releases it.
  Session(tcp::socket&& socket, SessionHost& host, std::string remote)
      : stream_(std::move(socket)),
        host_(host),
        send_timer_(stream_.get_executor()),
        remote_(std::move(remote)) {}

  ~Session() {
    host_.Unregister(this);
    host_.ReleaseConnection(remote_);
  }

  void Start() {
    host_.Register(this, weak_from_this());
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->WaitForRequest(); });
  }

  // From Stop(): closes the connection unless a request is being served.
  void CloseIfIdle() {
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] {
      if (self->idle_) {
        self->stream_.close();
      }
    });
  }

 private:
  // --- reading --------------------------------------------------------------------------

  void WaitForRequest();
  void ReadHeader();
  void OnHeader(error_code ec);
  void OnHeaderError(error_code ec);
  void StartBody();
  void ReadBodySome();
  void ParseBody();
  void OnBody(error_code ec);
  std::chrono::milliseconds BodyTimeout() const;
  bool Admitted(bool body_follows);
  Status StoreChunk(const char* data, std::size_t n);
  Response Guarded(const std::function<Response()>& fn);
  Response RunHandler();
  void CallHandler();
  void ContinueBlocking(std::function<Response()> fn);

  // --- writing --------------------------------------------------------------------------

  void SendError(int status, std::string_view detail, bool close);
  void SendResponse(Response response);
  void WriteHeadThen(void (Session::*next)());
  void SendFileSome();
  void WaitWritable();
  void StreamSome();
  void ReadNextChunk();
  void OnStreamRead(Result<std::size_t> got, std::size_t want, int index);
  void WriteReadyChunk();
  void FinishStreamIfDone();
  void FailStream();
  void Finish(bool completed);
  void LingeringClose();
  void Linger();
  void Close();
  void ResetRequest();

  beast::tcp_stream stream_;
  SessionHost& host_;
  asio::steady_timer send_timer_;
  const std::string remote_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::buffer_body>> parser_;
  std::unique_ptr<char[]> chunk_buf_;   // request bodies
  // StreamBody responses: two buffers (one filling, one being written), allocated on
  // first use, and the state of the transfer.
  std::unique_ptr<char[]> stream_bufs_[2];
  std::uint64_t stream_requested_ = 0;  // bytes the source has delivered
  int stream_fill_ = 0;                 // the buffer the next read fills
  int stream_ready_index_ = 0;          // the buffer read but not yet written...
  std::size_t stream_ready_bytes_ = 0;  // ...and how much it holds
  bool stream_reading_ = false;
  bool stream_writing_ = false;
  bool stream_has_ready_ = false;
  bool stream_end_ = false;             // the source has no more bytes
  bool stream_failed_ = false;
  std::string head_;
  std::string chunk_head_;
  bool first_ = true;
  bool idle_ = true;
  unsigned send_generation_ = 0;
  std::chrono::steady_clock::time_point linger_deadline_;

  // Per request.
  Request request_;
  const Route* route_ = nullptr;
  Response response_;
  SpoolFile spool_;
  std::chrono::steady_clock::time_point start_;
  unsigned version_ = 11;
  bool close_after_ = false;  // unread input is left: close (lingering) after the response
  bool keep_alive_ = false;
  bool direct_ = false;       // the body is read straight into request_.body.memory
  bool chunked_ = false;      // the response is sent with chunked encoding
  std::size_t last_size_ = 0;
  std::uint64_t body_read_ = 0;
  std::uint64_t max_body_ = 0;
  std::uint64_t bytes_ = 0;   // response body bytes sent
  std::uint64_t file_sent_ = 0;
};

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

void Session::ReadHeader() {
  parser_.emplace();
  parser_->header_limit(static_cast<std::uint32_t>(host_.options.max_header_bytes));
  parser_->body_limit(boost::none);  // checked per route once the header is known
  stream_.expires_after(host_.options.header_timeout);
  bhttp::async_read_header(stream_, buffer_, *parser_,
                           [self = shared_from_this()](error_code ec, std::size_t) {
                             self->OnHeader(ec);
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
    SendError(413, "request body too large", true);
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
    SendError(413, "request body too large", true);
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
    SendError(413, "request body too large", true);
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

// Runs `fn` off the I/O threads, then sends its response from the connection's strand.
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

void Session::SendError(int status, std::string_view detail, bool close) {
  close_after_ = close_after_ || close;
  SendResponse(TextResponse(status, std::string(detail) + "\n"));
}

// --- writing ------------------------------------------------------------------------------

void Session::SendResponse(Response response) {
  response_ = std::move(response);
  const bool head_only = request_.method == "HEAD";
  const bool no_body = StatusHasNoBody(response_.status);
  auto asked_close = response_.header("Connection");
  bool keep = !close_after_ && !host_.stopping.load() && parser_.has_value() &&
              parser_->is_header_done() && parser_->keep_alive() &&
              !(asked_close.has_value() && EqualsIgnoreCase(*asked_close, "close"));

  std::optional<std::uint64_t> length;
  chunked_ = false;
  if (auto* s = std::get_if<std::string>(&response_.body)) {
    length = s->size();
  } else if (auto* shared = std::get_if<std::shared_ptr<const std::string>>(&response_.body)) {
    length = *shared ? (*shared)->size() : 0;
  } else if (auto* file = std::get_if<FileBody>(&response_.body)) {
    length = file->length;
  } else if (auto* stream = std::get_if<StreamBody>(&response_.body)) {
    length = stream->length;
    if (!length.has_value()) {
      if (version_ == 10) {
        keep = false;  // HTTP/1.0 has no chunked encoding: the end of the body is the close
      } else {
        chunked_ = true;
      }
    }
  }
  if (no_body) {
    length.reset();
    chunked_ = false;
  }
  keep_alive_ = keep;
  ConnectionHeader connection = !keep ? ConnectionHeader::kClose
                                : version_ == 10 ? ConnectionHeader::kKeepAlive
                                                 : ConnectionHeader::kNone;
  head_.clear();
  AppendResponseHead(head_, response_, length, chunked_, connection);

  if (head_only || no_body) {
    WriteHeadThen(nullptr);
    return;
  }
  std::string_view memory_body;
  if (auto* s = std::get_if<std::string>(&response_.body)) {
    memory_body = *s;
  } else if (auto* shared = std::get_if<std::shared_ptr<const std::string>>(&response_.body)) {
    memory_body = *shared ? std::string_view(**shared) : std::string_view();
  } else if (std::holds_alternative<FileBody>(response_.body)) {
    WriteHeadThen(&Session::SendFileSome);
    return;
  } else {
    WriteHeadThen(&Session::StreamSome);
    return;
  }
  // Head and body in one gather write; the body is not copied.
  std::array<asio::const_buffer, 2> buffers = {
      asio::buffer(head_), asio::buffer(memory_body.data(), memory_body.size())};
  stream_.expires_after(host_.options.body_timeout);
  asio::async_write(stream_, buffers,
                    [self = shared_from_this(), n = memory_body.size()](error_code ec,
                                                                        std::size_t) {
                      if (!ec) {
                        self->bytes_ = n;
                      }
                      self->Finish(!ec);
                    });
}

void Session::WriteHeadThen(void (Session::*next)()) {
  stream_.expires_after(host_.options.idle_timeout);
  asio::async_write(stream_, asio::buffer(head_),
                    [self = shared_from_this(), next](error_code ec, std::size_t) {
                      if (ec) {
                        self->Finish(false);
                        return;
                      }
                      if (next == nullptr) {
                        self->Finish(true);
                        return;
                      }
                      (self.get()->*next)();
                    });
}

void Session::SendFileSome() {
  const FileBody& file = std::get<FileBody>(response_.body);
  const int socket = stream_.socket().native_handle();
  std::uint64_t budget = kSendfileSlice;
  while (file_sent_ < file.length) {
    if (budget == 0) {
      // Yield so that one large download does not starve the other connections.
      asio::post(stream_.get_executor(), [self = shared_from_this()] { self->SendFileSome(); });
      return;
    }
    off_t offset = static_cast<off_t>(file.offset + file_sent_);
    std::size_t want = static_cast<std::size_t>(std::min(file.length - file_sent_, budget));
    ssize_t n = ::sendfile(socket, file.fd, &offset, want);
    if (n > 0) {
      file_sent_ += static_cast<std::uint64_t>(n);
      bytes_ = file_sent_;
      budget -= static_cast<std::uint64_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      WaitWritable();
      return;
    }
    if (n == 0) {
      spdlog::error("http: file for {} ended {} bytes early", request_.target,
                    file.length - file_sent_);
    } else if (errno != EPIPE && errno != ECONNRESET) {
      spdlog::warn("http: sendfile for {}: {}", request_.target, std::strerror(errno));
    }
    Finish(false);  // the head promised more bytes: the connection cannot go on
    return;
  }
  Finish(true);
}

void Session::WaitWritable() {
  // The socket buffer is full: wait for room, at most idle_timeout without progress.
  unsigned generation = ++send_generation_;
  send_timer_.expires_after(host_.options.idle_timeout);
  send_timer_.async_wait([self = shared_from_this(), generation](error_code ec) {
    if (!ec && generation == self->send_generation_) {
      error_code ignored;
      self->stream_.socket().cancel(ignored);
    }
  });
  stream_.socket().async_wait(tcp::socket::wait_write,
                              [self = shared_from_this()](error_code ec) {
                                ++self->send_generation_;
                                self->send_timer_.cancel();
                                if (ec) {
                                  self->Finish(false);
                                  return;
                                }
                                self->SendFileSome();
                              });
}

// A StreamBody is sent with two buffers: while one is written to the client, the next
// read (on the blocking pool, often waiting on S3 or an upstream) fills the other, so
// the source and the client transfer at the same time.
void Session::StreamSome() {
  for (auto& buf : stream_bufs_) {
    if (!buf) {
      buf = std::make_unique<char[]>(kStreamChunkBytes);
    }
  }
  stream_requested_ = 0;
  stream_fill_ = 0;
  stream_reading_ = stream_writing_ = stream_has_ready_ = stream_end_ = stream_failed_ = false;
  ReadNextChunk();
}

void Session::ReadNextChunk() {
  StreamBody& stream = std::get<StreamBody>(response_.body);
  if (stream_end_ || stream_reading_) {
    return;
  }
  std::size_t want = kStreamChunkBytes;
  if (stream.length.has_value()) {
    if (stream_requested_ >= *stream.length) {
      stream_end_ = true;
      return;
    }
    want = static_cast<std::size_t>(
        std::min<std::uint64_t>(want, *stream.length - stream_requested_));
  }
  stream_reading_ = true;
  const int index = stream_fill_;
  asio::post(host_.blocking, [self = shared_from_this(), want, index] {
    StreamBody& body = std::get<StreamBody>(self->response_.body);
    Result<std::size_t> got = std::size_t{0};
    try {
      if (body.read) {
        got = body.read(self->stream_bufs_[index].get(), want);
      }
    } catch (const std::exception& e) {
      got = Internal(e.what());
    }
    asio::post(self->stream_.get_executor(),
               [self, got = std::move(got), want, index]() mutable {
                 self->OnStreamRead(std::move(got), want, index);
               });
  });
}

void Session::OnStreamRead(Result<std::size_t> got, std::size_t want, int index) {
  stream_reading_ = false;
  if (stream_failed_) {
    return;
  }
  StreamBody& stream = std::get<StreamBody>(response_.body);
  if (!got.has_value()) {
    spdlog::error("http: response stream for {} failed: {}", request_.target,
                  got.error().ToString());
    FailStream();
    return;
  }
  std::size_t n = std::min(*got, want);
  if (n == 0) {
    if (stream.length.has_value() && stream_requested_ < *stream.length) {
      spdlog::error("http: response stream for {} ended {} bytes early", request_.target,
                    *stream.length - stream_requested_);
      FailStream();
      return;
    }
    stream_end_ = true;
    FinishStreamIfDone();
    return;
  }
  stream_requested_ += n;
  stream_has_ready_ = true;
  stream_ready_index_ = index;
  stream_ready_bytes_ = n;
  stream_fill_ = 1 - index;
  if (!stream_writing_) {
    WriteReadyChunk();
  }
}

void Session::WriteReadyChunk() {
  stream_writing_ = true;
  stream_has_ready_ = false;
  const int index = stream_ready_index_;
  const std::size_t n = stream_ready_bytes_;
  ReadNextChunk();  // fills the other buffer while this one goes out
  auto on_written = [self = shared_from_this(), n](error_code ec, std::size_t) {
    self->stream_writing_ = false;
    if (self->stream_failed_) {
      return;
    }
    if (ec) {
      self->FailStream();
      return;
    }
    self->bytes_ += n;
    if (self->stream_has_ready_) {
      self->WriteReadyChunk();
      return;
    }
    self->ReadNextChunk();  // e.g. when the length was reached: marks the end
    self->FinishStreamIfDone();
  };
  stream_.expires_after(host_.options.idle_timeout);
  if (!chunked_) {
    asio::async_write(stream_, asio::buffer(stream_bufs_[index].get(), n), std::move(on_written));
    return;
  }
  // RFC 9112 section 7.1: chunk-size in hex, CRLF, data, CRLF.
  chunk_head_ = fmt::format("{:x}\r\n", n);
  static constexpr std::string_view kCrlf = "\r\n";
  std::array<asio::const_buffer, 3> buffers = {asio::buffer(chunk_head_),
                                               asio::buffer(stream_bufs_[index].get(), n),
                                               asio::buffer(kCrlf.data(), kCrlf.size())};
  asio::async_write(stream_, buffers, std::move(on_written));
}

// Ends the response once the source is exhausted and every byte has been written.
void Session::FinishStreamIfDone() {
  if (!stream_end_ || stream_reading_ || stream_writing_ || stream_has_ready_) {
    return;
  }
  if (!chunked_) {
    Finish(true);
    return;
  }
  static constexpr std::string_view kLastChunk = "0\r\n\r\n";
  stream_.expires_after(host_.options.idle_timeout);
  asio::async_write(stream_, asio::buffer(kLastChunk.data(), kLastChunk.size()),
                    [self = shared_from_this()](error_code ec, std::size_t) {
                      self->Finish(!ec);
                    });
}

// Aborts a streamed response: the client sees a truncated body, never a complete one.
void Session::FailStream() {
  stream_failed_ = true;
  Finish(false);
}

void Session::Finish(bool completed) {
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  std::string_view route = "none";
  if (route_ != nullptr) {
    route = route_->options.name.empty() ? std::string_view(route_->pattern)
                                         : std::string_view(route_->options.name);
  }
  host_.metrics.ObserveRequest(route, response_.status, seconds, bytes_);
  if (host_.access_log) {
    // Method and target are the client's bytes: escaped, so a line can't be forged.
    std::string line = remote_;
    line += " \"";
    AppendLogEscaped(request_.method.empty() ? "-" : request_.method, line);
    line += ' ';
    AppendLogEscaped(request_.target.empty() ? "-" : request_.target, line);
    fmt::format_to(std::back_inserter(line), "\" {} {} {:.3f}ms {}{}", response_.status, bytes_,
                   seconds * 1000, route, completed ? "" : " aborted");
    host_.access_log->Write(line);
  }
  spool_.Reset();
  if (!completed) {
    stream_.close();
    return;
  }
  if (!keep_alive_) {
    if (close_after_) {
      LingeringClose();
    } else {
      Close();
    }
    return;
  }
  WaitForRequest();
}

void Session::LingeringClose() {
  error_code ignored;
  stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
  idle_ = true;  // Stop() may cut this short
  linger_deadline_ = std::chrono::steady_clock::now() + kLingerTime;
  Linger();
}

void Session::Linger() {
  auto left = linger_deadline_ - std::chrono::steady_clock::now();
  if (left <= std::chrono::steady_clock::duration::zero()) {
    stream_.close();
    return;
  }
  stream_.expires_after(std::chrono::duration_cast<std::chrono::milliseconds>(left));
  buffer_.clear();
  stream_.async_read_some(buffer_.prepare(kChunkBytes),
                          [self = shared_from_this()](error_code ec, std::size_t) {
                            if (ec) {
                              self->stream_.close();
                              return;
                            }
                            self->Linger();
                          });
}

void Session::Close() {
  error_code ignored;
  stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
  stream_.close();
}

// --- the host's session registry -----------------------------------------------------------

void SessionHost::Register(Session* session, std::weak_ptr<Session> weak) {
  std::lock_guard lock(mu_);
  sessions_.emplace(session, std::move(weak));
}

void SessionHost::Unregister(Session* session) {
  std::lock_guard lock(mu_);
  sessions_.erase(session);
  if (sessions_.empty()) {
    cv_.notify_all();
  }
}

void SessionHost::CloseIdleSessions() {
  std::vector<std::shared_ptr<Session>> alive;
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

void StartSession(tcp::socket socket, SessionHost& host) {
  error_code ignored;
  std::string remote = PeerAddress(socket);
  if (!host.AcquireConnection(remote)) {
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
  socket.native_non_blocking(true, ignored);  // sendfile(2) must not block the I/O thread
  std::make_shared<Session>(std::move(socket), host, std::move(remote))->Start();
}

}  // namespace pipy::http
