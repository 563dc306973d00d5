// Plain request/response types. Everything above http/ sees only these; Beast stays
// inside http/*.cc (each translation unit that includes it costs ~12 s to compile).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "core/status.h"

namespace pipy::http {

struct Header {
  std::string name;   // as received / to send; lookups are case-insensitive
  std::string value;
};

// A request body: small ones are held in memory, large ones spooled to a temp file that
// the server deletes once the response is sent.
struct RequestBody {
  std::string memory;                 // used when `file` is empty
  std::filesystem::path file;
  std::uint64_t size = 0;
  bool in_file() const { return !file.empty(); }
};

struct Request {
  std::string method;       // "GET", "POST", ...
  std::string target;       // raw request-target, e.g. "/simple/Foo/?x=1"
  std::string path;         // percent-decoded path without the query, e.g. "/simple/Foo/"
  std::string query;        // raw query without '?'
  std::vector<Header> headers;
  std::string remote_address;  // peer IP, e.g. "127.0.0.1" or "::1"
  bool tls = false;            // arrived over TLS (the server has a certificate)
  RequestBody body;
  // Path parameters captured by the route pattern, e.g. {"name", "Foo"}.
  std::vector<std::pair<std::string, std::string>> params;

  // The first header named `name` (case-insensitive), or nullopt.
  std::optional<std::string_view> header(std::string_view name) const;
  // The path parameter `name`, or "" when the route has none.
  std::string_view param(std::string_view name) const;
  // The scheme the client used: "https" over TLS, else "http" (for absolute URLs built
  // from the Host header).
  std::string_view scheme() const { return tls ? "https" : "http"; }
};

// Bytes of an open file sent with sendfile(2). Without an `owner` the response owns `fd`
// and closes it; with one, `fd` belongs to the owner (a file many responses share, such as
// the page cache's spill file), which keeps it open while any response holds it.
struct FileBody {
  int fd = -1;
  std::uint64_t offset = 0;
  std::uint64_t length = 0;
  std::shared_ptr<const void> owner;
};

// Bytes produced on demand: `read` fills up to n bytes and returns how many, 0 at the end.
struct StreamBody {
  std::function<Result<std::size_t>(char* buf, std::size_t n)> read;
  std::optional<std::uint64_t> length;  // Content-Length when known, else chunked
};

struct Response {
  int status = 200;
  std::string reason;       // reason phrase; empty = the standard one for `status`
  std::vector<Header> headers;
  // A shared body lets cached pages be sent without copying.
  std::variant<std::string, std::shared_ptr<const std::string>, FileBody, StreamBody> body;
  // When set, the server ignores the rest of this response, runs this on its blocking
  // pool and sends what it returns: a handler answers fast cases inline and hands slow
  // ones (a network fetch) off without holding an I/O thread.
  std::function<Response()> continue_blocking;

  Response() = default;
  Response(Response&&) noexcept;
  Response& operator=(Response&&) noexcept;
  Response(const Response&) = delete;
  Response& operator=(const Response&) = delete;
  ~Response();  // closes a FileBody's fd

  Response& SetHeader(std::string name, std::string value);
  // The first header named `name` (case-insensitive), or nullopt.
  std::optional<std::string_view> header(std::string_view name) const;
};

// Builds a response with a text body.
Response TextResponse(int status, std::string body,
                      std::string content_type = "text/plain; charset=utf-8");
// Builds an error response from a non-OK status through the one Status-to-HTTP table:
// the message is both the reason phrase (twine prints it) and the body, with server paths
// taken out (see RedactServerPaths).
Response ErrorResponse(const Status& status);

// `message` as a reason phrase: one line of visible text (RFC 9112 section 4: reason-phrase
// is HTAB / SP / VCHAR / obs-text), printable ASCII only so no client chokes on it, and at
// most 200 characters.
std::string SanitizeReason(std::string_view message);

// `message` with every path under a folder named by SetServerFolders, and, for an
// `http_status` of 500 or more, every absolute filesystem path, replaced by "[server
// path]": error answers never tell a client where the server keeps its data.
std::string RedactServerPaths(std::string_view message, int http_status);
// The server's own folders (the data folder, the config file's): call once at start-up,
// before serving.
void SetServerFolders(std::vector<std::string> folders);
// The HTTP status for a Status code (the one table).
int HttpStatusFor(StatusCode code);

// Case-insensitive ASCII comparison, for header names (pipy::EqualsIgnoreCase from
// core/strings.h, kept here for the callers in this namespace).
bool EqualsIgnoreCase(std::string_view a, std::string_view b);

}  // namespace pipy::http
