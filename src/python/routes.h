// The Python protocols (routes registered on the HTTP router):
//   GET  /simple/                         project list      (PEP 503 / 691)
//   GET  /simple/{name}/                  project page      (PEP 503 / 691 / 592 / 658 / 700)
//   GET  /files/{sha256}/{filename}       a distribution file (immutable)
//   GET  /files/{sha256}/{filename}.metadata  its core metadata (PEP 658 / 714)
//   POST /legacy/                         twine upload (multipart/form-data)
//   POST|DELETE /api/python/{name}/{version}/yank   yank / un-yank a release (PEP 592)
//   GET  /api/python/{name}/{version}     a release as JSON, with each file's provenance
#pragma once

#include <cstdint>
#include <filesystem>

#include "app/access.h"
#include "http/metrics.h"
#include "http/router.h"
#include "index/index.h"
#include "python/unknown_projects.h"

namespace pipy::python {

struct PythonOptions {
  std::uint64_t max_upload_bytes = 512ull * 1024 * 1024;  // 413 above it
  std::filesystem::path tmp_dir;   // where uploaded files are unpacked from the body (required)
  // Serves /simple/<name>/ for names with no internal project (the upstream proxy);
  // nullptr = 404. Must outlive the router.
  UnknownProjects* unknown_projects = nullptr;
};

// Registers the routes above. Everything passed must outlive the router.
void RegisterRoutes(http::Router& router, index::Index& index, const app::Access& access,
                    http::Metrics& metrics, PythonOptions options);

}  // namespace pipy::python
