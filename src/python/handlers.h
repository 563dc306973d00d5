// The route handlers behind RegisterRoutes (routes.h), one function per endpoint. Each
// checks access, parses the request with the pure helpers (accept.h, multipart.h), calls
// the index service and renders; every failure becomes http::ErrorResponse.
#pragma once

#include "app/access.h"
#include "http/message.h"
#include "http/metrics.h"
#include "index/index.h"
#include "python/routes.h"

namespace pipy::python {

struct Context {
  index::Index& index;
  const app::Access& access;
  http::Metrics& metrics;
  PythonOptions options;
};

// GET /simple/ — the project list (PEP 503 / 691), cached per format.
http::Response ServeRoot(Context& ctx, const http::Request& request);
// GET /simple/{name}/ — a project page; a non-normalized name gets a 301 to the normalized
// URL (query kept), an unknown project 404.
http::Response ServeProject(Context& ctx, const http::Request& request);
// GET /simple (no trailing slash): 301 to /simple/.
http::Response RedirectToRoot(Context& ctx, const http::Request& request);
// GET /simple/{name} — PEP 503 asks for the trailing slash: 301 to the normalized URL.
http::Response RedirectToProject(Context& ctx, const http::Request& request);
// GET /files/{sha256}/{filename} and {filename}.metadata (PEP 658 / 714).
http::Response ServeFile(Context& ctx, const http::Request& request);
// POST /legacy/ — twine's upload (multipart/form-data, :action=file_upload).
http::Response HandleUpload(Context& ctx, const http::Request& request);
// POST (yank) / DELETE (un-yank) /api/python/{name}/{version}/yank (PEP 592).
http::Response HandleYank(Context& ctx, const http::Request& request, bool yanked);
// DELETE /api/python/{name}/{version}[/{filename}] — an admin's takedown of a release or of
// one of its files; answers the removed filenames.
http::Response HandleTakedown(Context& ctx, const http::Request& request);
// GET /api/python/{name}/{version} — the release's files as JSON, each with its builder
// provenance (or null); 404 for an unknown project or release.
http::Response HandleRelease(Context& ctx, const http::Request& request);

}  // namespace pipy::python
