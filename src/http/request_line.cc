#include "http/request_line.h"

namespace pipy::http {

bool IsKnownMethod(std::string_view m) {
  static constexpr std::string_view kMethods[] = {"GET",     "HEAD",    "POST",  "PUT",  "DELETE",
                                                  "CONNECT", "OPTIONS", "TRACE", "PATCH"};
  for (std::string_view k : kMethods) {
    if (k == m) {
      return true;
    }
  }
  return false;
}

bool IsWellFormedVersionLine(std::string_view received) {
  std::size_t eol = received.find("\r\n");
  if (eol == std::string_view::npos) {
    return false;
  }
  std::string_view line = received.substr(0, eol);
  std::size_t space = line.rfind(' ');
  if (space == std::string_view::npos) {
    return false;
  }
  std::string_view version = line.substr(space + 1);
  if (!version.starts_with("HTTP/")) {
    return false;
  }
  version.remove_prefix(5);
  bool digits = false;
  bool dot = false;
  for (char c : version) {
    if (c >= '0' && c <= '9') {
      digits = true;
    } else if (c == '.' && digits && !dot) {
      dot = true;
      digits = false;
    } else {
      return false;
    }
  }
  return digits;
}

}  // namespace pipy::http
