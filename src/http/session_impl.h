// Internal to http/ (included by session_read.cc and session_write.cc only): one HTTP/1.1
// connection (RFC 9112), after Beast's advanced server session. Beast parses the request
// (header under a deadline, header size capped, then the body under its own deadline); the
// response head is serialized by wire.cc and written together with an in-memory body in
// one gather write; files go out with sendfile(2), streams in chunks. Over TLS (the
// Transport decides per connection) the handshake comes first, under the header deadline,
// and files go out in chunks read with pread(2), since sendfile would bypass the cipher.
//
// Everything for one connection runs on the one thread of its io_context, so its handlers
// never run concurrently; the route's handler runs there too (no hand-off), unless the
// route is marked blocking: then it runs on the blocking pool, as every StreamBody read
// does, and its response is posted back.
//
// The two halves meet here: session_read.cc reads and checks the request and calls the
// handler, then SendResponse/SendError (session_write.cc) answer; Finish() goes back to
// WaitForRequest() on a kept-alive connection. Only the Beast headers the class itself
// needs are included: each translation unit that includes Beast costs ~12 s to compile.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/parser.hpp>

#include "core/status.h"
#include "http/message.h"
#include "http/router.h"
#include "http/session.h"
#include "http/spool_file.h"
#include "http/transport.h"

namespace pipy::http {

class Session : public Connection, public std::enable_shared_from_this<Session> {
 public:
  // `remote` was counted by SessionHost::AcquireConnection; the session releases it.
  // TLS when `tls` is not null.
  Session(Socket&& socket, SessionHost& host, std::string remote,
          std::shared_ptr<boost::asio::ssl::context> tls);
  ~Session() override;

  // Registers with the host and waits for the first request.
  void Start();
  // From Stop(): closes the connection unless a request is being served.
  void CloseIfIdle() override;

 private:
  using error_code = boost::system::error_code;

  // Request bodies are read, and lingering input drained, in pieces of this size.
  static constexpr std::size_t kChunkBytes = 64 * 1024;
  // Between requests, the first read of the next one takes up to this much.
  static constexpr std::size_t kIdleReadBytes = 4096;
  // A head being read takes what the buffer has room for, at least kMinReadBytes (an idle
  // connection holds no more: 10,000 of them must not cost a large buffer each) and at
  // most kChunkBytes, as Beast's read_size does.
  static constexpr std::size_t kMinReadBytes = 512;
  std::size_t HeadReadBytes() const;

  // --- reading (session_read.cc) ------------------------------------------------------

  void Handshake();
  void WaitForRequest();
  void ResetRequest();
  void ReadHeader();
  void ParseHeader();
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

  // --- writing (session_write.cc) -----------------------------------------------------

  void SendError(int status, std::string_view detail, bool close);
  // The 413 detail, naming the route's body limit (max_body_).
  std::string TooLargeDetail() const;
  void SendResponse(Response response);
  void WriteHeadThen(void (Session::*next)());
  // Writes head_ (which already holds a body of `body_bytes`), then finishes.
  void WriteCoalesced(std::size_t body_bytes);
  // Appends the file's bytes to head_ (small files over TLS); false, head_ unchanged, when
  // the file ends early or cannot be read.
  bool AppendFileToHead(const FileBody& file);
  // Plain TCP: the head with MSG_MORE straight from this thread, then SendFileSome.
  void SendHeadThenFile();
  void SendFileSome();
  void SendFileTls();
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

  Transport stream_;
  SessionHost& host_;
  const std::string remote_;
  boost::beast::flat_buffer buffer_;
  std::optional<boost::beast::http::request_parser<boost::beast::http::buffer_body>> parser_;
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
  bool tls_up_ = false;  // the TLS handshake has completed: close with close_notify
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

}  // namespace pipy::http
