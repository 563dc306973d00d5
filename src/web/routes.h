// The HTML UI (routes registered on the HTTP router):
//   GET /                  every project of every format, each labelled with its format,
//                          with a filter box (?q= filters server-side)
//   GET /project/{name}/   a Python project: versions, files, yank state, README
//   GET /project/{name}    redirects to the normalized URL with a slash (as does any
//                          non-normalized name, PEP 503)
//   GET /npm-package/{name...}  an npm package ("log" or "@acme/log"; "@acme%2flog" arrives
//                          decoded): README, dist-tags, versions with deprecations and
//                          tarballs, install commands; a trailing slash redirects without it
//   GET /help              how to configure pip, uv, twine and npm for this server
// Every route checks read access first (401 with WWW-Authenticate when reads need a token).
// The project list, project and npm package pages are rendered once per change and cached in
// index.pages() with an ETag (If-None-Match -> 304). A cached page is answered on the I/O
// thread; building one (catalog reads, the README's render) runs on the server's blocking
// pool, once for all concurrent requests (PageCache's single-flight). A README is rendered
// once per content, in a child process with a time and size budget (ReadmeRenderer).
#pragma once

#include <memory>
#include <string>

#include "app/access.h"
#include "http/router.h"
#include "index/index.h"
#include "web/readme_renderer.h"

namespace pipy::web {

struct WebOptions {
  // The base URL clients should use, e.g. "https://pypi.internal" ([server] public_url;
  // shown on /help and in npm packages' install lines). Empty: the request's scheme + the
  // Host header (npm package pages are then cached for a few distinct Hosts only).
  std::string public_base_hint;
  // Renders READMEs. nullptr: a ReadmeRenderer with default options (a child process of
  // this program: its main must dispatch kRenderMarkdownCommand, as pipy's does).
  std::shared_ptr<ReadmeRenderer> readme;
};

// Registers the routes above. `index` and `access` must outlive the router.
void RegisterRoutes(http::Router& router, index::Index& index, const app::Access& access,
                    WebOptions options = {});

}  // namespace pipy::web
