// Routing: method + path pattern -> handler, with per-route limits applied before the
// body is read.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/message.h"

namespace pipy::http {

using Handler = std::function<Response(Request&)>;
// Runs after the headers, before the body is read: returns a response to answer at once
// (401, 403, ...) or nullopt to go on. Lets a rejected upload not cost its body.
using Guard = std::function<std::optional<Response>(const Request&)>;

struct RouteOptions {
  std::string name;                  // label for metrics, e.g. "simple_project"
  std::uint64_t max_body_bytes = 64 * 1024;  // 413 above it
  Guard guard = nullptr;             // optional
  // The handler may block for long (a network round trip, fsyncs, an upstream fetch):
  // run it on the server's blocking pool instead of an I/O thread. Costs a thread hop.
  bool blocking = false;
  // Answer every address: ServerOptions::admission is not applied (/healthz).
  bool open_to_all = false;
};

struct Route {
  std::string method;                // "GET" also answers HEAD
  std::string pattern;               // see Router::Add
  RouteOptions options;
  Handler handler;
};

class Router {
 public:
  // Registers a route. `pattern` is a path whose segments are literals or `{name}` (one
  // non-empty segment); a final `{name...}` captures the rest of the path (possibly with
  // slashes). A trailing slash in the pattern is significant. Routes are tried in order.
  void Add(std::string method, std::string pattern, RouteOptions options, Handler handler);

  struct Match {
    const Route* route = nullptr;
    std::vector<std::pair<std::string, std::string>> params;
    bool method_mismatch = false;   // path matched some route, but not with this method
    std::string allow;              // with method_mismatch: the Allow value, e.g. "GET, HEAD"
  };
  // Finds the route for `method` and decoded `path`.
  Match Find(std::string_view method, std::string_view path) const;

 private:
  std::vector<Route> routes_;
};

}  // namespace pipy::http
