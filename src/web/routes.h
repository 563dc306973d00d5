// The HTML UI (routes registered on the HTTP router):
//   GET /                  every project, with a filter box (?q= filters server-side)
//   GET /project/{name}/   a project: versions, files, yank state, README
//   GET /project/{name}    redirects to the normalized URL with a slash (as does any
//                          non-normalized name, PEP 503)
//   GET /help              how to configure pip, uv, twine and npm for this server
// Every route checks read access first (401 with WWW-Authenticate when reads need a token).
// The project list and project pages are rendered once per change and cached in
// index.pages() with an ETag (If-None-Match -> 304).
#pragma once

#include <string>

#include "app/access.h"
#include "http/router.h"
#include "index/index.h"

namespace pipy::web {

struct WebOptions {
  // The base URL clients should use, e.g. "https://pypi.internal" (shown on /help). Empty:
  // "http://" + the request's Host header.
  std::string public_base_hint;
};

// Registers the routes above. `index` and `access` must outlive the router.
void RegisterRoutes(http::Router& router, index::Index& index, const app::Access& access,
                    WebOptions options = {});

}  // namespace pipy::web
