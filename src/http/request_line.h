// Checks on a request line that Beast's parser does not make the way RFC 9112 wants.
// Beast-free, so it is tested without a socket.
#pragma once

#include <string_view>

namespace pipy::http {

// True for the methods this server knows (RFC 9110 section 9 and PATCH); any other
// token gets 501.
bool IsKnownMethod(std::string_view method);

// True when `received` starts with a CRLF-terminated request line whose last token is
// "HTTP/" DIGIT+ [ "." DIGIT+ ] (RFC 9112 section 2.3, with any digits): such a line
// with an unsupported version gets 505, anything else malformed gets 400.
bool IsWellFormedVersionLine(std::string_view received);

}  // namespace pipy::http
