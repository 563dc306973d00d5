// GET /api/python/{name}/{version}: one release as JSON — its files and, for files the
// monorepo builder published, their provenance (source, commit, module, build, test result).
#include <boost/json.hpp>
#include <string>

#include "core/pep440_version.h"
#include "core/pep503.h"
#include "python/attributes.h"
#include "python/handlers.h"
#include "python/python_format.h"

namespace pipy::python {
namespace {

boost::json::value ProvenanceJson(const std::optional<catalog::Provenance>& provenance) {
  if (!provenance) {
    return nullptr;
  }
  boost::json::object out;
  out["source"] = provenance->source;
  out["commit"] = provenance->commit;
  out["module"] = provenance->module;
  out["build_id"] = provenance->build_id;
  out["build_url"] = "/api/builds/" + std::to_string(provenance->build_id);
  out["test_result"] = provenance->test_result;
  return out;
}

}  // namespace

http::Response HandleRelease(Context& ctx, const http::Request& request) {
  Result<auth::Principal> who = ctx.access.ForRead(request);
  if (!who) {
    return http::ErrorResponse(who.error());
  }
  std::string_view name = request.param("name");
  if (!pep503::IsValidName(name)) {
    return http::ErrorResponse(NotFound("no project named \"" + std::string(name) + "\""));
  }
  Result<pep440::Version> version = pep440::Version::Parse(request.param("version"));
  if (!version) {
    return http::ErrorResponse(
        NotFound("invalid version \"" + std::string(request.param("version")) + "\""));
  }
  auto view = ctx.index.GetProject(PythonFormat(), pep503::NormalizeName(name));
  if (!view) {
    return http::ErrorResponse(view.error());
  }
  // PEP 440 equality, not spelling: "1.0.0" names the release stored as "1.0".
  const catalog::ReleaseRecord* release = nullptr;
  for (const catalog::ReleaseRecord& candidate : (*view)->releases) {
    auto candidate_version = pep440::Version::Parse(candidate.version);
    if (candidate_version && *candidate_version == *version) {
      release = &candidate;
      break;
    }
  }
  if (release == nullptr) {
    return http::ErrorResponse(NotFound("project \"" + (*view)->project.name +
                                        "\" has no release " + version->ToString()));
  }
  boost::json::array files;
  for (const catalog::FileRecord& f : (*view)->files) {
    if (f.version != release->version) {
      continue;
    }
    boost::json::object file;
    file["filename"] = f.filename;
    file["packagetype"] = PackageType(f);
    file["size"] = f.size;
    file["sha256"] = f.sha256;
    file["url"] = "/files/" + f.sha256 + "/" + f.filename;
    file["upload_time_ms"] = f.upload_time_ms;
    file["uploader"] = f.uploader;
    file["provenance"] = ProvenanceJson(f.provenance);
    files.push_back(std::move(file));
  }
  boost::json::object out;
  out["project"] = (*view)->project.name;
  out["name"] = (*view)->project.display_name;
  out["version"] = release->version;
  out["summary"] = release->metadata.summary;
  out["yanked"] = release->yanked;
  out["yanked_reason"] = release->yanked_reason;
  out["files"] = std::move(files);
  return http::TextResponse(200, boost::json::serialize(out) + "\n", "application/json");
}

}  // namespace pipy::python
