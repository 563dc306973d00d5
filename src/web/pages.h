// The pages of the HTML UI as pure functions: data in, a complete HTML document out. Every
// interpolated value is HTML-escaped here, so hostile project names, summaries, filenames,
// yank reasons or Host headers cannot inject markup. No I/O; thread-safe.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/catalog.h"
#include "index/index.h"

namespace pipy::web {

// The project list, every format in one list, each row labelled with its format ("python",
// "npm") and linked to its format's page (ProjectPath). When `query` is non-empty only the
// projects whose name or display name contains it (ASCII case-insensitively) are listed,
// and the filter box shows it. The box also filters client-side with a few lines of inline
// JavaScript; without JavaScript it submits `?q=` and the server filters.
std::string RenderRootPage(const std::vector<catalog::ProjectRecord>& projects,
                           std::string_view query);

// The release whose README the project page shows: the newest that is not yanked (the one
// pip would pick without a pin); when every release is yanked, the newest. nullptr when
// there is no release.
const catalog::ReleaseRecord* ReadmeRelease(const index::ProjectView& view);

// A project: summary, requires-python, `readme_html` (the HTML of ReadmeRelease's
// description, inserted as is; "" = none), then every release newest first with its yank
// state and files (link to /files/<sha256>/<filename>, size, sha256, upload time).
std::string RenderProjectPage(const index::ProjectView& view, std::string_view readme_html);
// The same with the README rendered here by RenderDescription (markdown.h), with no time
// limit: for trusted input (tests, tools).
std::string RenderProjectPage(const index::ProjectView& view);

// The UI path of a project's page: "/project/<name>/" for Python, "/npm-package/<name>" for
// npm ("/npm-package/@acme/log": the scope's '/' stays a path separator). Not HTML-escaped.
std::string ProjectPath(const catalog::ProjectRecord& project);
std::string NpmPackagePath(std::string_view name);
// A valid npm name as URL path segments: "@acme/log" stays "@acme/log" (each part
// percent-encoded, '@' and the '/' kept).
std::string NpmNamePath(std::string_view name);

// npm's placeholder README for a package that has none ("ERROR: No README data found!"):
// such a README is not shown.
bool IsNpmReadmePlaceholder(std::string_view readme);

// The release whose README the npm package page shows: the one the dist-tag "latest"
// names (what `npm install <name>` picks), else the newest. nullptr when there is none.
const catalog::ReleaseRecord* NpmReadmeRelease(const index::ProjectView& view,
                                               const std::map<std::string, std::string>& tags);

// An npm package: its description and deprecation (of NpmReadmeRelease), install commands
// for npm, yarn and pnpm with the .npmrc line for `registry_url` (this server's registry,
// "http://pipy.internal:8080/npm/"), `readme_html` (inserted as is; "" = none), the
// dist-tags, then every version newest first with its tags, deprecation message, upload
// time, uploader and tarball (link, size, sha256, integrity, shasum).
std::string RenderNpmPackagePage(const index::ProjectView& view,
                                 const std::map<std::string, std::string>& tags,
                                 std::string_view registry_url, std::string_view readme_html);

// How to point pip, uv, twine and npm at this server. `base_url` is the server's base URL
// as the client should use it, e.g. "http://pipy.internal:8080" (no trailing slash).
std::string RenderHelpPage(std::string_view base_url);

// An error page for HTTP `status` with a one-line explanation.
std::string RenderErrorPage(int status, std::string_view message);

}  // namespace pipy::web
