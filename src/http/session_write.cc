// Writing one response: the head (wire.cc) and an in-memory body in one gather write, a
// FileBody with sendfile(2), a StreamBody through two alternating buffers; then Finish()
// logs and counts the request and keeps the connection alive, closes it, or lingers
// (drains unread input) before closing. See session_impl.h for how reading and writing
// meet.
#include <fcntl.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <exception>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include <boost/asio/buffer.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "http/access_log.h"
#include "http/session_impl.h"
#include "http/wire.h"

namespace pipy::http {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

namespace {

// A StreamBody is read in larger pieces: each read is a round trip to the blocking pool
// (and often a wait on a network), so fewer, bigger reads move more bytes per hop.
constexpr std::size_t kStreamChunkBytes = 512 * 1024;
// Bytes one download may send per turn before yielding its thread to other connections.
constexpr std::uint64_t kSendfileSlice = 4 << 20;
// After an error response with unread input, how long the input is drained before the
// socket closes, so that the peer reads the response instead of a reset.
constexpr auto kLingerTime = std::chrono::seconds(2);
// Over TLS, bodies up to this size are copied after the head so that both go out in one
// record (the TLS stream writes each buffer of a gather write on its own).
constexpr std::size_t kTlsCoalesceBytes = 64 * 1024;
// How long a closing TLS connection waits for the peer's close_notify.
constexpr auto kTlsShutdownTime = std::chrono::seconds(1);

}  // namespace

void Session::SendError(int status, std::string_view detail, bool close) {
  close_after_ = close_after_ || close;
  Response response = TextResponse(status, std::string(detail) + "\n");
  response.reason = SanitizeReason(detail);  // twine and pip print the reason phrase
  SendResponse(std::move(response));
}

std::string Session::TooLargeDetail() const {
  return "the request body is larger than this route's limit of " + std::to_string(max_body_) +
         " bytes";
}

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
  } else if (auto* file = std::get_if<FileBody>(&response_.body)) {
    if (stream_.tls()) {
      if (file->length <= kTlsCoalesceBytes && AppendFileToHead(*file)) {
        WriteCoalesced(file->length);  // a small file and its head in one TLS record
        return;
      }
      WriteHeadThen(&Session::SendFileSome);
      return;
    }
    SendHeadThenFile();
    return;
  } else {
    WriteHeadThen(&Session::StreamSome);
    return;
  }
  if (stream_.tls() && memory_body.size() <= kTlsCoalesceBytes) {
    head_.append(memory_body);
    WriteCoalesced(memory_body.size());
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

void Session::WriteCoalesced(std::size_t body_bytes) {
  stream_.expires_after(host_.options.body_timeout);
  asio::async_write(stream_, asio::buffer(head_),
                    [self = shared_from_this(), body_bytes](error_code ec, std::size_t) {
                      if (!ec) {
                        self->bytes_ = body_bytes;
                      }
                      self->Finish(!ec);
                    });
}

bool Session::AppendFileToHead(const FileBody& file) {
  const std::size_t head_bytes = head_.size();
  head_.resize(head_bytes + file.length);
  std::size_t done = 0;
  while (done < file.length) {
    ssize_t n = ::pread(file.fd, head_.data() + head_bytes + done, file.length - done,
                        static_cast<off_t>(file.offset + done));
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      head_.resize(head_bytes);  // sent the slow way, which reports the short file
      return false;
    }
    done += static_cast<std::size_t>(n);
  }
  return true;
}

void Session::SendHeadThenFile() {
  // The head goes out with MSG_MORE, so the kernel holds it for the file's first bytes
  // (one segment for a small file, as nginx's tcp_nopush gives) and no handler round trip
  // separates the two; a socket too full for the whole head falls back to async_write.
  const int socket = stream_.socket().native_handle();
  // An empty file sends nothing after the head: nothing would push a held head out.
  const int more = std::get<FileBody>(response_.body).length > 0 ? MSG_MORE : 0;
  ssize_t n = 0;
  do {
    n = ::send(socket, head_.data(), head_.size(), more | MSG_NOSIGNAL | MSG_DONTWAIT);
  } while (n < 0 && errno == EINTR);
  if (n == static_cast<ssize_t>(head_.size())) {
    SendFileSome();
    return;
  }
  if (n > 0) {
    head_.erase(0, static_cast<std::size_t>(n));
  } else if (errno != EAGAIN && errno != EWOULDBLOCK) {
    Finish(false);
    return;
  }
  WriteHeadThen(&Session::SendFileSome);
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
  if (stream_.tls()) {
    SendFileTls();
    return;
  }
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

// Over TLS the bytes must pass through the cipher: the file is read in pieces of
// kChunkBytes into one buffer, each written before the next is read, so memory stays
// bounded whatever the file's size.
void Session::SendFileTls() {
  const FileBody& file = std::get<FileBody>(response_.body);
  if (file_sent_ >= file.length) {
    Finish(true);
    return;
  }
  if (!chunk_buf_) {
    chunk_buf_ = std::make_unique<char[]>(kChunkBytes);
  }
  const std::size_t want =
      static_cast<std::size_t>(std::min<std::uint64_t>(file.length - file_sent_, kChunkBytes));
  ssize_t n = 0;
  do {
    n = ::pread(file.fd, chunk_buf_.get(), want, static_cast<off_t>(file.offset + file_sent_));
  } while (n < 0 && errno == EINTR);
  if (n <= 0) {
    if (n == 0) {
      spdlog::error("http: file for {} ended {} bytes early", request_.target,
                    file.length - file_sent_);
    } else {
      spdlog::warn("http: reading the file for {}: {}", request_.target, std::strerror(errno));
    }
    Finish(false);  // the head promised more bytes: the connection cannot go on
    return;
  }
  stream_.expires_after(host_.options.idle_timeout);
  asio::async_write(stream_, asio::buffer(chunk_buf_.get(), static_cast<std::size_t>(n)),
                    [self = shared_from_this()](error_code ec, std::size_t written) {
                      if (ec) {
                        self->Finish(false);
                        return;
                      }
                      self->file_sent_ += written;
                      self->bytes_ = self->file_sent_;
                      self->SendFileTls();
                    });
}

void Session::WaitWritable() {
  // The socket buffer is full: wait for room, at most idle_timeout without progress.
  stream_.expires_after(host_.options.idle_timeout);
  stream_.socket().async_wait(Socket::wait_write, [self = shared_from_this()](error_code ec) {
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
  // Straight from TCP, also under TLS: the input is thrown away, so it is not decrypted.
  stream_.socket().async_read_some(buffer_.prepare(kChunkBytes),
                                [self = shared_from_this()](error_code ec, std::size_t) {
                                  if (ec) {
                                    self->stream_.close();
                                    return;
                                  }
                                  self->Linger();
                                });
}

void Session::Close() {
  if (tls_up_) {
    // close_notify first: it tells a client reading to the end of the connection that
    // the body is complete. The peer's answer is awaited briefly, then TCP closes.
    tls_up_ = false;
    idle_ = true;  // Stop() may cut this short
    stream_.expires_after(kTlsShutdownTime);
    stream_.async_shutdown([self = shared_from_this()](error_code) { self->stream_.close(); });
    return;
  }
  error_code ignored;
  stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
  stream_.close();
}

}  // namespace pipy::http
