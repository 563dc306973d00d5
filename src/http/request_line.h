// Checks on a request line that Beast's parser does not make the way RFC 9112 wants.
// Beast-free, so it is tested without a socket.
#pragma once

#include <string_view>
#include <vector>

#include "core/status.h"

namespace pipy::http {

// True for the methods this server knows (RFC 9110 section 9 and PATCH); any other
// token gets 501.
bool IsKnownMethod(std::string_view method);

// True when `received` starts with a CRLF-terminated request line whose last token is
// "HTTP/" DIGIT+ [ "." DIGIT+ ] (RFC 9112 section 2.3, with any digits): such a line
// with an unsupported version gets 505, anything else malformed gets 400.
bool IsWellFormedVersionLine(std::string_view received);

// What a request header says about where its message ends, reduced to what the checks
// below need.
struct Framing {
  unsigned version = 11;                         // 10 or 11
  std::size_t host_fields = 0;                   // how many Host fields
  std::vector<std::string_view> transfer_encoding;  // every Transfer-Encoding field value
  bool content_length = false;                   // a Content-Length field is present
};

// Refuses, with kInvalidArgument, a request whose end two parsers could disagree on
// (request smuggling): RFC 9112 section 3.2 (HTTP/1.1 needs exactly one Host; two are
// never accepted), section 6.1 (Transfer-Encoding in HTTP/1.0), section 6.3 (a
// Transfer-Encoding next to a Content-Length, and one whose final coding is not chunked).
// This server decodes no transfer coding but chunked, applied once: any other list
// ("gzip, chunked", "chunked, chunked", "xchunked") is refused too.
Status CheckFraming(const Framing& framing);

// True when `unparsed` (the bytes after a chunked body's last complete line) holds a line
// ended by a bare LF: RFC 9112 section 7.1 wants CRLF after every chunk-size line and
// trailer field; a parser that skips bare LFs would otherwise wait for a CR forever.
bool HasBareLineFeed(std::string_view unparsed);

}  // namespace pipy::http
