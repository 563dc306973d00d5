// Pure helpers for the server: request-target parsing and listen addresses. No Beast here
// so that they are unit-tested cheaply.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace pipy::http {

struct ParsedTarget {
  std::string path;   // percent-decoded, starts with '/'
  std::string query;  // raw, without '?'
};

// Splits a request-target in origin-form ("/a/b?q") or absolute-form ("http://h/a?q",
// RFC 9112 section 3.2) into its percent-decoded path and raw query. Errors
// (kInvalidArgument): another form, an invalid %-escape, a decoded NUL or other control
// character, or a decoded path that is not valid UTF-8.
Result<ParsedTarget> ParseTarget(std::string_view target);

struct ListenAddress {
  std::string host;  // without brackets, e.g. "127.0.0.1", "::1", "localhost"
  int port = 0;
};
// Parses "HOST:PORT" or "[IPV6]:PORT". Errors (kInvalidArgument) name the input.
Result<ListenAddress> ParseListenAddress(std::string_view listen);

}  // namespace pipy::http
