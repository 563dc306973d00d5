// Serializing a response head (RFC 9112 section 4). Pure and Beast-free, so that the
// header rules are unit-tested without sockets.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "http/message.h"

namespace pipy::http {

// The standard reason phrase for `status` ("Not Found"), or "Unknown".
std::string_view ReasonPhrase(int status);

// True for statuses that never carry a body (1xx, 204, 304; RFC 9110 section 6.4.1).
bool StatusHasNoBody(int status);

enum class ConnectionHeader { kNone, kClose, kKeepAlive };

// Appends "HTTP/1.1 <status> <reason>" and the headers of `response` to `out`, then
// `Server: pipy`, `Date`, the framing header (`Content-Length: N` when `content_length` is
// set, else `Transfer-Encoding: chunked` when `chunked`), `Connection` as asked, and the
// blank line. Headers the server owns (Content-Length, Transfer-Encoding, Connection,
// Server, Date) are dropped from `response.headers`, and so is any header whose name or
// value holds CR, LF or NUL (response splitting). The reason is sanitized the same way.
void AppendResponseHead(std::string& out, const Response& response,
                        std::optional<std::uint64_t> content_length, bool chunked,
                        ConnectionHeader connection);

// The current time as an IMF-fixdate (RFC 9110 section 5.6.7), cached per second and
// per thread.
std::string_view HttpDateNow();

}  // namespace pipy::http
