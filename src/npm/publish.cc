#include "npm/publish.h"

#include <optional>
#include <set>
#include <sstream>
#include <utility>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "core/base64.h"
#include "core/npm_name.h"
#include "core/semver.h"
#include "core/strings.h"
#include "npm/npm_format.h"
#include "npm/tarball.h"

namespace pipy::npm {
namespace {

namespace json = boost::json;

std::string StringField(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}

// npm's `integrity` may list several digests ("sha512-... sha1-..."): each one we can
// check must match.
Status CheckIntegrity(std::string_view sent, const ReceivedTarball& tarball) {
  std::istringstream entries{std::string(sent)};
  std::string entry;
  while (entries >> entry) {
    entry = entry.substr(0, entry.find('?'));  // SRI options
    if (entry.starts_with("sha512-")) {
      if (entry != tarball.integrity) {
        return InvalidArgument("the tarball does not match the integrity sent (" +
                               entry.substr(0, 80) + ")");
      }
    } else if (entry.starts_with("sha1-")) {
      auto raw = Base64Decode(std::string_view(entry).substr(5));
      std::string hex = raw ? HexEncode(std::span<const unsigned char>(
                                  reinterpret_cast<const unsigned char*>(raw->data()),
                                  raw->size()))
                            : std::string();
      if (hex != tarball.sha1_hex) {
        return InvalidArgument("the tarball does not match the integrity sent (" +
                               entry.substr(0, 80) + ")");
      }
    }
  }
  return Status::Ok();
}

// The tarball's package/package.json, which must name the package and version being
// published.
Result<json::object> CheckTarball(const index::IndexOptions& options,
                                  const ReceivedTarball& tarball, std::string_view name,
                                  const semver::Version& version) {
  PIPY_ASSIGN_OR_RETURN(TarballContents contents,
                        ReadTarball(options, tarball.file, /*with_readme=*/false));
  json::object& package_json = contents.package_json;
  const std::string inner_name = StringField(package_json, "name");
  if (inner_name != name) {
    return InvalidArgument("the tarball's package.json names '" + inner_name.substr(0, 220) +
                           "' but the package is '" + std::string(name) + "'");
  }
  const std::string inner_version = StringField(package_json, "version");
  auto inner = semver::Version::Parse(inner_version);
  if (!inner || *inner != version) {
    return InvalidArgument("the tarball's package.json has version '" +
                           inner_version.substr(0, 100) + "' but the manifest has '" +
                           version.ToString() + "'");
  }
  return std::move(package_json);
}

// What installs act on comes from the tarball, not from the body's manifest, which a
// publisher writes freely: the manifest Pipy serves must not hide a dependency or an
// install script that `npm install` will find in the package (manifest confusion).
constexpr std::string_view kInstallFields[] = {
    "dependencies", "optionalDependencies", "peerDependencies", "peerDependenciesMeta",
    "bundleDependencies", "bundledDependencies", "os", "cpu", "libc", "engines"};
constexpr std::string_view kInstallHooks[] = {"preinstall", "install", "postinstall"};

void TakeInstallFieldsFrom(const json::object& package_json, json::object& manifest) {
  for (std::string_view field : kInstallFields) {
    if (const json::value* v = package_json.if_contains(field)) {
      manifest[field] = *v;
    } else {
      manifest.erase(field);
    }
  }
  const json::value* scripts = package_json.if_contains("scripts");
  if (scripts == nullptr || !scripts->is_object()) {
    return;
  }
  json::value& mine = manifest["scripts"];
  if (!mine.is_object()) {
    mine = json::object();
  }
  for (std::string_view hook : kInstallHooks) {
    if (const json::value* v = scripts->as_object().if_contains(hook)) {
      mine.as_object()[hook] = *v;
    }
  }
}

// The version this body publishes: its only one, or — as npm 9 sends after a 409, having
// merged the packument into its body — the only one the package does not have yet.
Result<std::pair<std::string, const json::object*>> NewVersionOf(
    index::Index& index, std::string_view name, const json::object& versions) {
  if (versions.size() == 1) {
    const auto& [version, manifest] = *versions.begin();
    if (!manifest.is_object()) {
      return InvalidArgument("the version's manifest must be a JSON object");
    }
    return std::make_pair(std::string(version), &manifest.as_object());
  }
  std::set<std::string> existing;
  if (auto view = index.GetProject(NpmFormat(), name); view) {
    for (const catalog::ReleaseRecord& r : (*view)->releases) {
      existing.insert(r.version);
    }
  }
  std::optional<std::pair<std::string, const json::object*>> found;
  for (const auto& [version, manifest] : versions) {
    auto parsed = semver::Version::Parse(version);
    if (parsed && existing.contains(parsed->Key())) {
      continue;
    }
    if (found || !manifest.is_object()) {
      return InvalidArgument("a publish carries exactly one new version in 'versions'");
    }
    found = std::make_pair(std::string(version), &manifest.as_object());
  }
  if (!found) {
    return InvalidArgument("a publish carries exactly one new version in 'versions'");
  }
  return *found;
}

// NewVersionOf, but a name this publisher may not take is refused as such first: after
// Pipy's 409 for a public name, npm 9 merges the upstream's versions into its body and
// tries again, and must see the same 409, not a 400 about the merge.
Result<std::pair<std::string, const json::object*>> PickVersion(
    index::Index& index, const auth::Principal& who, std::string_view name,
    const json::object& versions) {
  auto picked = NewVersionOf(index, name, versions);
  if (!picked && versions.size() > 1) {
    PIPY_RETURN_IF_ERROR(index.CheckNewProject(who, NpmFormat(), name));
  }
  return picked;
}

}  // namespace

json::object StoredManifest(const json::object& published) {
  json::object out = published;
  // _provenance is the builder's, from the file's record: a publisher must not forge one.
  for (std::string_view owned : {"dist", "readme", "readmeFilename", "deprecated", "_id",
                                 "_npmUser", "_attachments", "hasInstallScript",
                                 "_provenance"}) {
    out.erase(owned);
  }
  return out;
}

Result<PublishOutcome> PublishVersion(index::Index& index, const auth::Principal& who,
                                      std::string_view name, const PublishBody& body,
                                      const ReceivedTarball& tarball) {
  PIPY_RETURN_IF_ERROR(npm_name::Validate(name));
  const json::object& doc = body.document;
  const std::string body_name = StringField(doc, "name");
  if (body_name != name) {
    return InvalidArgument("the body names '" + body_name.substr(0, 220) +
                           "' but the URL names '" + std::string(name) + "'");
  }
  if (const json::value* id = doc.if_contains("_id");
      id != nullptr && (!id->is_string() || id->as_string() != name)) {
    return InvalidArgument("the body's _id is not the package name");
  }
  const json::value* versions = doc.if_contains("versions");
  if (versions == nullptr || !versions->is_object() || versions->as_object().empty()) {
    return InvalidArgument("a publish carries exactly one version in 'versions'");
  }
  PIPY_ASSIGN_OR_RETURN(auto picked, PickVersion(index, who, name, versions->as_object()));
  const std::string& version_text = picked.first;
  const json::object& manifest = *picked.second;
  auto version = semver::Version::Parse(version_text);
  if (!version) {
    return InvalidArgument("invalid version '" + std::string(version_text).substr(0, 100) +
                           "': " + version.error().message());
  }
  if (StringField(manifest, "name") != name) {
    return InvalidArgument("the manifest's name is not '" + std::string(name) + "'");
  }
  auto manifest_version = semver::Version::Parse(StringField(manifest, "version"));
  if (!manifest_version || *manifest_version != *version) {
    return InvalidArgument("the manifest's version is not '" + std::string(version_text) + "'");
  }
  if (body.attachments.empty() || tarball.size == 0) {
    return InvalidArgument("the publish has no tarball attachment");
  }
  const json::value* attachments = doc.if_contains("_attachments");
  const json::value* attachment =
      attachments != nullptr && attachments->is_object()
          ? attachments->as_object().if_contains(body.attachments.front())
          : nullptr;
  if (attachment != nullptr && attachment->is_object()) {
    if (const json::value* length = attachment->as_object().if_contains("length");
        length != nullptr && length->is_number() &&
        length->to_number<double>() != static_cast<double>(tarball.size)) {
      return InvalidArgument("the attachment's length does not match its data");
    }
  }
  if (const json::value* dist = manifest.if_contains("dist"); dist != nullptr && dist->is_object()) {
    const std::string shasum = StringField(dist->as_object(), "shasum");
    if (!shasum.empty() && AsciiLower(shasum) != tarball.sha1_hex) {
      return InvalidArgument("the tarball does not match the shasum sent");
    }
    PIPY_RETURN_IF_ERROR(CheckIntegrity(StringField(dist->as_object(), "integrity"), tarball));
  }

  index::PublishRequest request;
  request.project = std::string(name);
  request.version = version->Key();
  request.filename = npm_name::TarballFilename(name, version->Key());
  request.file = tarball.file;
  request.file_is_disposable = true;
  request.attributes[std::string(kShasum)] = tarball.sha1_hex;
  request.attributes[std::string(kIntegrity)] = tarball.integrity;
  request.release.display_name = std::string(name);
  request.release.summary = StringField(manifest, "description");
  std::string readme = StringField(manifest, "readme");
  if (readme.empty()) {
    readme = StringField(doc, "readme");
  }
  request.release.description = readme.substr(0, kMaxReadmeBytes);
  request.uploader = who.token_name;
  // The body's dist-tags (npm sends {"<tag>": "<version>"}; "latest" unless --tag). Those
  // naming this version commit with it, so a publish never lands without them (a full disk
  // between two commits once left a version served without the tag it was published with);
  // a tag naming another version is moved after. Without a usable tag, "latest" when the
  // package has none yet.
  std::vector<std::pair<std::string, std::string>> other_tags;
  bool tagged = false;
  if (const json::value* tags = doc.if_contains("dist-tags"); tags != nullptr && tags->is_object()) {
    for (const auto& [tag, target] : tags->as_object()) {
      if (!target.is_string() || !ValidateTagName(tag).ok()) {
        continue;  // not a tag npm could install by (a version, a range, odd characters)
      }
      auto target_version = semver::Version::Parse(std::string_view(target.as_string()));
      if (target_version && *target_version == *version) {
        request.release.tags.emplace_back(tag);
        tagged = true;
      } else {
        other_tags.emplace_back(std::string(tag), std::string(target.as_string()));
      }
    }
  }
  if (!tagged && other_tags.empty()) {
    PIPY_ASSIGN_OR_RETURN(auto current, index.ListTags(NpmFormat(), name));
    if (!current.contains("latest")) {
      request.release.tags.emplace_back("latest");
    }
  }
  const index::IndexOptions& options = index.options();
  const std::string package_name(name);
  const semver::Version parsed = *version;
  json::object stored = StoredManifest(manifest);
  request.inspect = [&options, &tarball, package_name, parsed,
                     stored = std::move(stored)](index::PublishRequest& r) mutable -> Status {
    PIPY_ASSIGN_OR_RETURN(json::object package_json,
                          CheckTarball(options, tarball, package_name, parsed));
    TakeInstallFieldsFrom(package_json, stored);
    r.manifest = json::serialize(stored);
    if (r.manifest.size() > kMaxManifestBytes) {
      return TooLarge("the version's manifest is larger than " +
                      std::to_string(kMaxManifestBytes) + " bytes");
    }
    return Status::Ok();
  };
  PIPY_ASSIGN_OR_RETURN(index::PublishResult result,
                        index.Publish(who, NpmFormat(), std::move(request)));
  PublishOutcome outcome{std::move(result), version->Key()};
  if (outcome.result.outcome == catalog::AddFileOutcome::kIdenticalExists) {
    return outcome;
  }

  bool moved = false;
  for (const auto& [tag, target] : other_tags) {
    Status set = index.SetTag(who, NpmFormat(), name, tag, target);
    if (!set.ok() && set.code() != StatusCode::kNotFound) {
      return set;
    }
    moved = moved || set.ok();
  }
  if (!tagged && !moved && !other_tags.empty()) {
    // Every tag named a version that does not exist: as with no tags at all.
    PIPY_ASSIGN_OR_RETURN(auto current, index.ListTags(NpmFormat(), name));
    if (!current.contains("latest")) {
      PIPY_RETURN_IF_ERROR(index.SetTag(who, NpmFormat(), name, "latest", outcome.version));
    }
  }
  return outcome;
}

}  // namespace pipy::npm
