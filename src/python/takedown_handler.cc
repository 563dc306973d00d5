// Takedowns (admin only): DELETE /api/python/{name}/{version} removes a release with all its
// files, DELETE /api/python/{name}/{version}/{filename} one file of it. The index removes
// them in one catalog commit and tombstones their names (the version and every filename
// can never be published again); every node stops serving them at once (pages and the
// download path's file rows are dropped through the catalog's change notifications), and
// `pipy gc` deletes the blobs once nothing refers to them.
#include <boost/json.hpp>
#include <string>

#include "core/pep440_version.h"
#include "core/pep503.h"
#include "python/handlers.h"
#include "python/python_format.h"

namespace pipy::python {
namespace {

// The files of the release `version` names by PEP 440 equality ("1.0.0" names the release
// stored as "1.0"), with the release's stored spelling; kNotFound when there is none.
Result<std::pair<std::string, std::vector<std::string>>> ReleaseFiles(
    const index::ProjectView& view, const pep440::Version& version) {
  for (const catalog::ReleaseRecord& release : view.releases) {
    auto stored = pep440::Version::Parse(release.version);
    if (!stored || !(*stored == version)) {
      continue;
    }
    std::vector<std::string> files;
    for (const catalog::FileRecord& file : view.files) {
      if (file.version_key == release.version_key) {
        files.push_back(file.filename);
      }
    }
    return std::make_pair(release.version, std::move(files));
  }
  return NotFound("project \"" + view.project.name + "\" has no release " + version.ToString());
}

}  // namespace

http::Response HandleTakedown(Context& ctx, const http::Request& request) {
  Result<auth::Principal> who = ctx.access.ForWrite(request);
  if (!who) {
    return http::ErrorResponse(who.error());
  }
  if (!who->IsAdmin()) {
    return http::ErrorResponse(PermissionDenied("removing releases and files needs an admin token"));
  }
  std::string_view name = request.param("name");
  if (!pep503::IsValidName(name)) {
    return http::ErrorResponse(NotFound("no project named \"" + std::string(name) + "\""));
  }
  std::string project = pep503::NormalizeName(name);
  Result<pep440::Version> version = pep440::Version::Parse(request.param("version"));
  if (!version) {
    return http::ErrorResponse(
        NotFound("invalid version \"" + std::string(request.param("version")) + "\""));
  }
  auto view = ctx.index.GetProject(PythonFormat(), project);
  if (!view) {
    return http::ErrorResponse(view.error());
  }
  auto release = ReleaseFiles(**view, *version);
  if (!release) {
    return http::ErrorResponse(release.error());
  }
  auto& [stored_version, files] = *release;
  std::string_view filename = request.param("filename");
  Status status;
  if (filename.empty()) {
    status = ctx.index.RemoveRelease(*who, PythonFormat(), project, stored_version);
  } else {
    if (std::find(files.begin(), files.end(), filename) == files.end()) {
      return http::ErrorResponse(NotFound("release " + stored_version + " of \"" + project +
                                          "\" has no file \"" + std::string(filename) + "\""));
    }
    files = {std::string(filename)};
    status = ctx.index.RemoveFile(*who, PythonFormat(), project, filename);
  }
  if (!status.ok()) {
    return http::ErrorResponse(status);
  }
  boost::json::object out;
  out["project"] = project;
  out["version"] = stored_version;
  boost::json::array removed;
  for (const std::string& file : files) {
    removed.emplace_back(file);
  }
  out["removed"] = std::move(removed);
  return http::TextResponse(200, boost::json::serialize(out) + "\n", "application/json");
}

}  // namespace pipy::python
