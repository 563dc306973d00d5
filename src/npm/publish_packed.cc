// PublishPackedTarball (publish.h): the builder's `npm pack` output, published as
// `npm publish` would store it, with everything taken from the tarball itself.
#include <array>
#include <fstream>
#include <map>
#include <string>
#include <utility>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "core/digest.h"
#include "core/npm_name.h"
#include "core/semver.h"
#include "npm/npm_format.h"
#include "npm/publish.h"
#include "npm/tarball.h"

namespace pipy::npm {
namespace {

namespace json = boost::json;

std::string StringField(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}

struct TarballDigests {
  std::string sha1_hex;
  std::string integrity;  // "sha512-<base64>"
};

// The digests npm clients check, over the file's bytes. The message names no path: it may
// reach a build log.
Result<TarballDigests> DigestFile(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    return Internal("cannot open the packed tarball");
  }
  Digest sha1(Digest::Algorithm::kSha1);
  Digest sha512(Digest::Algorithm::kSha512);
  std::array<char, 64 * 1024> buf;
  while (in) {
    in.read(buf.data(), buf.size());
    const std::string_view chunk(buf.data(), static_cast<std::size_t>(in.gcount()));
    sha1.Update(chunk);
    sha512.Update(chunk);
  }
  if (in.bad()) {
    return Internal("cannot read the packed tarball");
  }
  return TarballDigests{sha1.Hex(), Sha512Integrity(sha512.Raw())};
}

// npm's rule for the tag installs follow by default: the first version takes it; later a
// stable version takes it when it is newer; a prerelease never takes it from another.
bool TakesLatest(const std::map<std::string, std::string>& tags,
                 const semver::Version& version) {
  auto it = tags.find("latest");
  if (it == tags.end()) {
    return true;
  }
  if (version.IsPrerelease()) {
    return false;
  }
  // Stored versions are valid SemVer; one that is not cannot outrank a stable one.
  auto current = semver::Version::Parse(it->second);
  return !current || *current < version;
}

}  // namespace

Result<PublishOutcome> PublishPackedTarball(index::Index& index, const auth::Principal& who,
                                            const PackedTarball& tarball) {
  PIPY_ASSIGN_OR_RETURN(TarballContents contents,
                        ReadTarball(index.options(), tarball.file, /*with_readme=*/true));
  const json::object& package_json = contents.package_json;
  const std::string name = StringField(package_json, "name");
  if (Status valid = npm_name::Validate(name); !valid.ok()) {
    return InvalidArgument("the tarball's package.json has an invalid name '" +
                           name.substr(0, 220) + "': " + valid.message());
  }
  const std::string version_text = StringField(package_json, "version");
  auto version = semver::Version::Parse(version_text);
  if (!version) {
    return InvalidArgument("the tarball's package.json has an invalid version '" +
                           version_text.substr(0, 100) + "': " + version.error().message());
  }
  if (const json::value* p = package_json.if_contains("private");
      p != nullptr && p->is_bool() && p->as_bool()) {
    return InvalidArgument("the package '" + name + "' is private (\"private\": true)");
  }
  const std::string manifest = json::serialize(StoredManifest(package_json));
  if (manifest.size() > kMaxManifestBytes) {
    return TooLarge("the version's manifest is larger than " +
                    std::to_string(kMaxManifestBytes) + " bytes");
  }
  PIPY_ASSIGN_OR_RETURN(TarballDigests digests, DigestFile(tarball.file));

  index::PublishRequest request;
  request.project = name;
  request.version = version->Key();
  request.filename = npm_name::TarballFilename(name, version->Key());
  request.file = tarball.file;
  request.file_is_disposable = tarball.file_is_disposable;
  request.attributes[std::string(kShasum)] = digests.sha1_hex;
  request.attributes[std::string(kIntegrity)] = digests.integrity;
  request.release.display_name = name;
  request.release.summary = StringField(package_json, "description");
  request.release.description = contents.readme.value_or("");
  request.manifest = manifest;
  request.uploader = who.token_name;
  request.provenance = tarball.provenance;
  PIPY_ASSIGN_OR_RETURN(index::PublishResult result,
                        index.Publish(who, NpmFormat(), std::move(request)));
  PublishOutcome outcome{std::move(result), version->Key()};
  if (outcome.result.outcome == catalog::AddFileOutcome::kIdenticalExists) {
    return outcome;
  }
  PIPY_ASSIGN_OR_RETURN(auto tags, index.ListTags(NpmFormat(), name));
  if (TakesLatest(tags, *version)) {
    PIPY_RETURN_IF_ERROR(index.SetTag(who, NpmFormat(), name, "latest", outcome.version));
  }
  return outcome;
}

}  // namespace pipy::npm
