// What Pipy serves for an upstream project: the files it may link (selected from the
// upstream's page) and their pages in PEP 503 HTML and PEP 691 JSON, every file URL
// pointing at Pipy ("/upstream-files/<sha256>/<filename>", metadata at "<url>.metadata"
// per PEP 658 / 714). Pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "upstream/simple_parse.h"
#include "upstream/url_policy.h"

namespace pipy::upstream {

// The URL prefix of proxied files (routes.h registers it).
inline constexpr std::string_view kFilesPrefix = "/upstream-files/";

// The project name a distribution filename belongs to (normalized), or "" when the
// filename is not a wheel (PEP 427) or sdist (PEP 625 / legacy) name.
std::string ProjectOfFilename(std::string_view filename);

// True when `text` is 64 lowercase hex digits.
bool IsSha256Hex(std::string_view text);

// Keeps only the files Pipy can serve safely:
//  - the filename is a wheel or sdist of `project.name` (a page cannot smuggle in files of
//    another project, which would escape the shadowing rule);
//  - the upstream gave a sha256 (without one a download cannot be verified);
//  - the URL passes `policy` (no fetch of a foreign host, ever);
//  - a filename listed twice keeps its first entry.
// Metadata without a sha256 is dropped (never advertised unverifiable). Order is kept.
UpstreamProject SelectServable(const UpstreamProject& project, const UrlPolicy& policy);

// "/upstream-files/<sha256>/<filename percent-encoded>".
std::string ProxiedFileUrl(const UpstreamFile& file);

// PEP 503 HTML with data-requires-python, data-yanked, data-core-metadata and
// data-dist-info-metadata; PEP 691 JSON at api-version 1.1 when every file has a size
// (with "versions", "size" per PEP 700), else 1.0. Never a JSON "dist-info-metadata" key.
// Rendered by python::RenderSimpleProject{Html,Json} (python/simple_pages.h), the same
// renderer as the internal pages.
std::string RenderProjectHtml(const UpstreamProject& project);
std::string RenderProjectJson(const UpstreamProject& project);

}  // namespace pipy::upstream
