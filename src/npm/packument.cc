#include "npm/packument.h"

#include <algorithm>
#include <set>
#include <string>

#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "core/sha256.h"
#include "core/timestamp.h"
#include "npm/npm_format.h"

namespace pipy::npm {
namespace {

namespace json = boost::json;

// The version fields an install needs (npm registry docs, "Abbreviated metadata format").
constexpr std::string_view kAbbreviatedFields[] = {
    "name",          "version",          "dependencies",       "optionalDependencies",
    "devDependencies", "bundleDependencies", "bundledDependencies", "peerDependencies",
    "peerDependenciesMeta", "acceptDependencies", "bin", "directories", "engines",
    "_hasShrinkwrap", "hasInstallScript", "os", "cpu", "libc", "funding", "license",
    "deprecated", "dist"};

// Top-level fields the registry copies from the latest version, so `npm view` and the
// search show them.
constexpr std::string_view kTopLevelFields[] = {"description", "keywords", "license",
                                                "homepage", "repository", "author", "bugs"};

json::object Dist(const PackumentInput& input, const PackumentVersion& v) {
  json::object dist;
  dist["tarball"] = TarballUrl(input.registry_url, input.name, v.tarball.filename);
  dist["shasum"] = std::string(Shasum(v.tarball));
  dist["integrity"] = std::string(Integrity(v.tarball));
  return dist;
}

bool HasInstallScript(const json::object& manifest) {
  const json::value* scripts = manifest.if_contains("scripts");
  if (scripts == nullptr || !scripts->is_object()) {
    return false;
  }
  for (std::string_view hook : {"preinstall", "install", "postinstall"}) {
    if (scripts->as_object().contains(hook)) {
      return true;
    }
  }
  return false;
}

// Where the builder built the version from (its tarball's provenance): the keys of the
// Python release API's "provenance" (python/release_handler.cc).
json::object ProvenanceObject(const catalog::Provenance& provenance) {
  json::object out;
  out["source"] = provenance.source;
  out["commit"] = provenance.commit;
  out["module"] = provenance.module;
  out["build_id"] = provenance.build_id;
  out["build_url"] = "/api/builds/" + std::to_string(provenance.build_id);
  out["test_result"] = provenance.test_result;
  return out;
}

json::object FullVersion(const PackumentInput& input, const PackumentVersion& v) {
  json::object doc = v.manifest;
  // Only the file's record speaks for a build: never a manifest a publisher wrote.
  doc.erase("_provenance");
  if (v.tarball.provenance) {
    doc["_provenance"] = ProvenanceObject(*v.tarball.provenance);
  }
  doc["name"] = input.name;
  doc["version"] = v.release.version;
  doc["_id"] = input.name + "@" + v.release.version;
  doc["dist"] = Dist(input, v);
  if (!v.release.deprecated.empty()) {
    doc["deprecated"] = v.release.deprecated;
  }
  if (!v.tarball.uploader.empty()) {
    doc["_npmUser"] = json::object{{"name", v.tarball.uploader}};
  }
  if (HasInstallScript(v.manifest)) {
    doc["hasInstallScript"] = true;
  }
  return doc;
}

json::object AbbreviatedVersion(const PackumentInput& input, const PackumentVersion& v) {
  return Abbreviate(FullVersion(input, v));
}

// The version "latest" points to, else the newest.
const PackumentVersion* Latest(const PackumentInput& input) {
  if (auto it = input.tags.find("latest"); it != input.tags.end()) {
    for (const PackumentVersion& v : input.versions) {
      if (v.release.version == it->second) {
        return &v;
      }
    }
  }
  return input.versions.empty() ? nullptr : &input.versions.front();
}

json::object DistTags(const PackumentInput& input) {
  json::object tags;
  for (const auto& [tag, version] : input.tags) {
    tags[tag] = version;
  }
  return tags;
}

// created: the first upload; modified: the last; then each version's publish time.
json::object Times(const PackumentInput& input) {
  json::object time;
  std::int64_t first = 0;
  std::int64_t last = 0;
  for (const PackumentVersion& v : input.versions) {
    const std::int64_t at = v.tarball.upload_time_ms;
    first = first == 0 ? at : std::min(first, at);
    last = std::max(last, at);
  }
  time["created"] = FormatUtcTimestamp(first, 3);
  time["modified"] = FormatUtcTimestamp(last, 3);
  // Oldest first, as the public registry writes them.
  for (auto it = input.versions.rbegin(); it != input.versions.rend(); ++it) {
    time[it->release.version] = FormatUtcTimestamp(it->tarball.upload_time_ms, 3);
  }
  return time;
}

}  // namespace

json::object Abbreviate(const json::object& full_version) {
  json::object doc;
  for (std::string_view field : kAbbreviatedFields) {
    if (const json::value* value = full_version.if_contains(field)) {
      doc[field] = *value;
    }
  }
  if (HasInstallScript(full_version)) {
    doc["hasInstallScript"] = true;
  }
  return doc;
}

std::string TarballUrl(const std::string& registry_url, const std::string& name,
                       const std::string& filename) {
  return registry_url + name + "/-/" + filename;
}

std::string Revision(const PackumentInput& input) {
  Sha256 hasher;
  for (const PackumentVersion& v : input.versions) {
    hasher.Update("v\n" + v.release.version + "\n" + v.tarball.sha256 + "\n" +
                  v.release.deprecated + "\n");
    // A file's provenance is written with it and never changes, but the document shows
    // it: hashed too (only when present, so packuments without one keep their _rev).
    if (const auto& p = v.tarball.provenance) {
      hasher.Update("p\n" + p->source + "\n" + p->commit + "\n" + p->module + "\n" +
                    std::to_string(p->build_id) + "\n" + p->test_result + "\n");
    }
  }
  for (const auto& [tag, version] : input.tags) {
    hasher.Update("t\n" + tag + "\n" + version + "\n");
  }
  return "1-" + hasher.HexDigest().substr(0, 32);
}

std::string RenderFull(const PackumentInput& input) {
  json::object doc;
  doc["_id"] = input.name;
  doc["_rev"] = Revision(input);
  doc["name"] = input.name;
  doc["dist-tags"] = DistTags(input);
  json::object versions;
  std::set<std::string> maintainers;
  for (auto it = input.versions.rbegin(); it != input.versions.rend(); ++it) {
    versions[it->release.version] = FullVersion(input, *it);
    if (!it->tarball.uploader.empty()) {
      maintainers.insert(it->tarball.uploader);
    }
  }
  doc["versions"] = std::move(versions);
  doc["time"] = Times(input);
  json::array people;
  for (const std::string& name : maintainers) {
    people.push_back(json::object{{"name", name}});
  }
  doc["maintainers"] = std::move(people);
  if (const PackumentVersion* latest = Latest(input)) {
    for (std::string_view field : kTopLevelFields) {
      if (const json::value* value = latest->manifest.if_contains(field)) {
        doc[field] = *value;
      }
    }
    doc["readme"] = latest->release.metadata.description;
  }
  return json::serialize(doc);
}

std::string RenderAbbreviated(const PackumentInput& input) {
  json::object doc;
  doc["name"] = input.name;
  json::object time = Times(input);
  doc["modified"] = time["modified"];
  doc["dist-tags"] = DistTags(input);
  json::object versions;
  for (auto it = input.versions.rbegin(); it != input.versions.rend(); ++it) {
    versions[it->release.version] = AbbreviatedVersion(input, *it);
  }
  doc["versions"] = std::move(versions);
  doc["time"] = std::move(time);
  return json::serialize(doc);
}

const PackumentVersion* FindVersion(const PackumentInput& input,
                                    const std::string& version_or_tag) {
  // A version first: no tag may shadow one.
  for (const PackumentVersion& v : input.versions) {
    if (v.release.version == version_or_tag) {
      return &v;
    }
  }
  if (auto it = input.tags.find(version_or_tag); it != input.tags.end()) {
    for (const PackumentVersion& v : input.versions) {
      if (v.release.version == it->second) {
        return &v;
      }
    }
  }
  return nullptr;
}

json::object VersionObject(const PackumentInput& input, const PackumentVersion& version) {
  return FullVersion(input, version);
}

std::string RenderVersion(const PackumentInput& input, const PackumentVersion& version) {
  return json::serialize(FullVersion(input, version));
}

}  // namespace pipy::npm
