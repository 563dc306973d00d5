#include "http/router.h"

#include <utility>

namespace pipy::http {

namespace {

// Splits off the next '/'-separated segment of `rest` (which starts after a '/').
std::string_view NextSegment(std::string_view& rest, bool& had_slash) {
  std::size_t slash = rest.find('/');
  std::string_view segment = rest.substr(0, slash);
  had_slash = slash != std::string_view::npos;
  rest = had_slash ? rest.substr(slash + 1) : std::string_view();
  return segment;
}

bool IsCapture(std::string_view segment) {
  return segment.size() >= 2 && segment.front() == '{' && segment.back() == '}';
}

// Matches `path` against `pattern` segment by segment without allocating; captures are
// appended to `params` only on a match.
bool MatchPattern(std::string_view pattern, std::string_view path,
                  std::vector<std::pair<std::string, std::string>>* params) {
  if (pattern.empty() || path.empty() || pattern[0] != '/' || path[0] != '/') {
    return pattern == path;
  }
  std::string_view pat = pattern.substr(1);
  std::string_view rest = path.substr(1);
  std::size_t first_param = params->size();
  while (true) {
    bool pat_more = false;
    bool path_more = false;
    std::string_view pseg = NextSegment(pat, pat_more);
    if (IsCapture(pseg) && !pat_more && pseg.ends_with("...}")) {
      // `{name...}`: everything left, slashes included; must not be empty.
      std::string_view all = rest;
      if (all.empty()) {
        params->resize(first_param);
        return false;
      }
      params->emplace_back(std::string(pseg.substr(1, pseg.size() - 5)), std::string(all));
      return true;
    }
    std::string_view seg = NextSegment(rest, path_more);
    if (IsCapture(pseg)) {
      if (seg.empty()) {
        params->resize(first_param);
        return false;
      }
      params->emplace_back(std::string(pseg.substr(1, pseg.size() - 2)), std::string(seg));
    } else if (pseg != seg) {
      params->resize(first_param);
      return false;
    }
    if (pat_more != path_more) {
      params->resize(first_param);
      return false;
    }
    if (!pat_more) {
      return true;
    }
  }
}

bool MethodMatches(std::string_view route_method, std::string_view method) {
  return route_method == method || (route_method == "GET" && method == "HEAD");
}

void AddAllowed(std::string& allow, std::string_view method) {
  std::size_t pos = 0;
  while (pos < allow.size()) {
    std::size_t comma = allow.find(", ", pos);
    std::string_view existing(allow.data() + pos,
                              (comma == std::string::npos ? allow.size() : comma) - pos);
    if (existing == method) {
      return;
    }
    if (comma == std::string::npos) {
      break;
    }
    pos = comma + 2;
  }
  if (!allow.empty()) {
    allow += ", ";
  }
  allow += method;
}

}  // namespace

void Router::Add(std::string method, std::string pattern, RouteOptions options,
                 Handler handler) {
  routes_.push_back(Route{std::move(method), std::move(pattern), std::move(options),
                          std::move(handler)});
}

Router::Match Router::Find(std::string_view method, std::string_view path) const {
  Match match;
  bool path_matched = false;
  std::string allow;
  for (const Route& route : routes_) {
    std::vector<std::pair<std::string, std::string>> params;
    if (!MatchPattern(route.pattern, path, &params)) {
      continue;
    }
    if (MethodMatches(route.method, method)) {
      match.route = &route;
      match.params = std::move(params);
      return match;
    }
    path_matched = true;
    AddAllowed(allow, route.method);
    if (route.method == "GET") {
      AddAllowed(allow, "HEAD");
    }
  }
  match.method_mismatch = path_matched;
  if (path_matched) {
    match.allow = std::move(allow);
  }
  return match;
}

}  // namespace pipy::http
