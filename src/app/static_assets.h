// The web UI's stylesheet and scripts, served as files (`GET /static/<name>`) rather than
// inline, so every page can carry a Content-Security-Policy without 'unsafe-inline': a
// README or a package name that smuggled markup past the escaping still could not run
// script or style. Each asset's path carries a hash of its content, so it is cached as
// immutable and a new release is fetched at once.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "http/message.h"

namespace pipy::app {

struct StaticAsset {
  std::string path;          // "/static/pipy-<12 hex>.css"
  std::string content_type;
  std::string body;
  std::string etag;          // "\"<12 hex>\""
};

// The UI's stylesheet (every page links it) and the project filter's script.
const StaticAsset& Stylesheet();
const StaticAsset& FilterScript();
// Every asset, for the route that serves them.
const std::vector<const StaticAsset*>& StaticAssets();

// The asset at `path`, or nullptr.
const StaticAsset* FindStaticAsset(std::string_view path);

// The headers of every HTML page: a Content-Security-Policy allowing only this server's own
// style and script (no inline ones), no framing, no base or form redirection; no Referer
// sent to other sites.
void SetPageSecurityHeaders(http::Response& response);

}  // namespace pipy::app
