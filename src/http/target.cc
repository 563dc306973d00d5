#include "http/target.h"

#include <charconv>

#include "core/escape.h"
#include "core/strings.h"

namespace pipy::http {

Result<ParsedTarget> ParseTarget(std::string_view target) {
  // absolute-form: drop "scheme://authority"; the Host is not used for routing.
  if (target.starts_with("http://") || target.starts_with("https://")) {
    std::size_t authority = target.find("://") + 3;
    std::size_t slash = target.find_first_of("/?", authority);
    if (slash == std::string_view::npos) {
      target = "/";
    } else if (target[slash] == '?') {
      return InvalidArgument("request target has a query but no path");
    } else {
      target = target.substr(slash);
    }
  }
  if (target.empty() || target[0] != '/') {
    return InvalidArgument("request target must start with '/'");
  }
  ParsedTarget out;
  std::size_t q = target.find('?');
  std::string_view raw_path = target.substr(0, q);
  if (q != std::string_view::npos) {
    out.query = std::string(target.substr(q + 1));
  }
  out.path.reserve(raw_path.size());
  for (std::size_t i = 0; i < raw_path.size(); ++i) {
    char c = raw_path[i];
    if (c == '%') {
      if (i + 2 >= raw_path.size()) {
        return InvalidArgument("invalid percent-escape in path");
      }
      int hi = HexDigitValue(raw_path[i + 1]);
      int lo = HexDigitValue(raw_path[i + 2]);
      if (hi < 0 || lo < 0) {
        return InvalidArgument("invalid percent-escape in path");
      }
      c = static_cast<char>(hi * 16 + lo);
      i += 2;
    }
    unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      return InvalidArgument("control character in path");
    }
    out.path.push_back(c);
  }
  if (!pipy::IsValidUtf8(out.path)) {
    return InvalidArgument("path is not valid UTF-8");
  }
  return out;
}

Result<ListenAddress> ParseListenAddress(std::string_view listen) {
  ListenAddress out;
  std::string_view port;
  if (listen.starts_with("[")) {
    std::size_t close = listen.find(']');
    if (close == std::string_view::npos || close + 1 >= listen.size() ||
        listen[close + 1] != ':') {
      return InvalidArgument("listen address \"" + std::string(listen) +
                             "\" is not [IPV6]:PORT");
    }
    out.host = std::string(listen.substr(1, close - 1));
    port = listen.substr(close + 2);
  } else {
    std::size_t colon = listen.rfind(':');
    if (colon == std::string_view::npos || listen.find(':') != colon) {
      return InvalidArgument("listen address \"" + std::string(listen) +
                             "\" is not HOST:PORT (write IPv6 as [ADDR]:PORT)");
    }
    out.host = std::string(listen.substr(0, colon));
    port = listen.substr(colon + 1);
  }
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), out.port);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || out.port < 0 ||
      out.port > 65535 || out.host.empty()) {
    return InvalidArgument("listen address \"" + std::string(listen) +
                           "\" needs a host and a port from 0 to 65535");
  }
  return out;
}

}  // namespace pipy::http
