// Rendering of the simple repository API pages at api-version 1.1 (1.0 for proxied upstream
// pages that lack PEP 700's fields):
//   PEP 503 (HTML), PEP 691 (JSON), PEP 592 (yanked), PEP 629 (repository-version meta),
//   PEP 658 / 714 (core metadata), PEP 700 (versions, size, upload-time).
// Pure functions: the same input always renders the same bytes, so ETags are stable.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/catalog.h"
#include "index/index.h"
#include "python/accept.h"

namespace pipy::python {

// The repository API version advertised in every page (PEP 629 / PEP 700).
inline constexpr std::string_view kApiVersion = "1.1";

// The URL path a file is served at: "/files/<sha256>/<filename>", the filename
// percent-encoded except for [A-Za-z0-9._~+!-]. Absolute path, no host. Its PEP 658
// metadata lives at the same URL plus ".metadata".
std::string FileUrl(const catalog::FileRecord& file);

// A project page as the simple API shows it, whoever holds the files: this index
// (RenderProjectHtml / RenderProjectJson below) or the upstream proxy
// (upstream/project_page.h). Both render through RenderSimpleProjectHtml / -Json, so the
// two kinds of page cannot drift apart. The views point into the caller's records, which
// must outlive the page.
struct SimpleFile {
  std::string url;                    // where Pipy serves the file; without the fragment
  std::string_view filename;
  std::string_view sha256;            // lowercase hex
  std::string_view requires_python;   // empty = none
  std::string_view metadata_sha256;   // PEP 658 / 714 metadata file; empty = none
  bool yanked = false;
  std::string_view yanked_reason;
  std::optional<std::uint64_t> size;  // PEP 700 "size"; omitted when unset
  std::string upload_time;            // PEP 700 "upload-time"; omitted when empty
};
struct SimpleProjectPage {
  std::string_view api_version = kApiVersion;  // "1.0" when PEP 700's fields are missing
  std::string_view name;                       // normalized: the JSON "name"
  std::string_view title_name;                 // the HTML title: the display name
  std::optional<std::vector<std::string>> versions;  // PEP 700, newest first; unset = omit
  std::vector<SimpleFile> files;
};

// HTML: one anchor per file, href "<url>#sha256=<hex>", with data-requires-python,
// data-core-metadata and data-dist-info-metadata ("sha256=<hex>", when `metadata_sha256`
// is set; PEP 714 renamed the attribute, older pips only know the PEP 658 name) and
// data-yanked (the reason, possibly empty). JSON: {"meta","name","versions","files":[
// {"filename","url","hashes":{"sha256"},"requires-python" (when set),
// "core-metadata":{"sha256"}|false,"yanked":false|true|reason,"size","upload-time"}]}.
// Never a "dist-info-metadata" key in JSON (crashes older pip).
std::string RenderSimpleProjectHtml(const SimpleProjectPage& page);
std::string RenderSimpleProjectJson(const SimpleProjectPage& page);

// The root list (every project, in the given order). HTML anchors point to
// "/simple/<normalized>/" with the display name as text; JSON is
// {"meta":{"api-version":"1.1"},"projects":[{"name":<display name>},...]}.
std::string RenderRootHtml(const std::vector<catalog::ProjectRecord>& projects);
std::string RenderRootJson(const std::vector<catalog::ProjectRecord>& projects);

// A project page of this index at api-version 1.1: every file at FileUrl, with its size
// and upload time; "versions" lists every release, newest first (view order).
std::string RenderProjectHtml(const index::ProjectView& view);
std::string RenderProjectJson(const index::ProjectView& view);

// Dispatch on the negotiated format (both HTML formats share one rendering).
std::string RenderRoot(SimpleFormat format, const std::vector<catalog::ProjectRecord>& projects);
std::string RenderProject(SimpleFormat format, const index::ProjectView& view);

// "YYYY-MM-DDTHH:MM:SS.ffffffZ" (UTC) for Unix epoch milliseconds, as PEP 700 asks.
std::string FormatUploadTime(std::int64_t epoch_ms);

// Appends `text` as a JSON string literal (quotes included): '"', '\\' and control
// characters are escaped; invalid UTF-8 bytes become U+FFFD so the output always parses.
void AppendJsonString(std::string& out, std::string_view text);

}  // namespace pipy::python
