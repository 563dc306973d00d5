// ReadUpstreamPackument + RenderUpstream on any upstream answer. The input is
// "<name>\n<body>" (a first line that is no valid name stands for "left-pad"). When the
// answer is read:
//   - every kept version key is SemVer, its dist.tarball is
//     <registry>/<name>/-/<file> with file in [A-Za-z0-9._+-]+ (not "." or ".."), and the
//     tarball Pipy keeps for that file is the one the version's digests describe, on a host
//     `fetchable` allows;
//   - every dist-tag (of a dist-tags object) points at a kept version;
//   - the "full", "abbreviated" and "v:latest" documents are JSON that say the same (the
//     abbreviated versions are the full ones, and v:latest is there exactly when the
//     latest tag is).
#include <cstdint>
#include <string>
#include <string_view>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "core/npm_name.h"
#include "core/semver.h"
#include "fuzz/fuzz_check.h"
#include "npm/upstream_packument.h"

namespace {

namespace json = boost::json;
using pipy::fuzz::Check;

constexpr char kRegistry[] = "http://pipy.test:8080/npm/";
constexpr std::string_view kFileChars =
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._+-";

// The proxy's rule stands in: http(s) URLs, except on hosts it refuses.
bool Fetchable(const std::string& url) {
  return (url.starts_with("https://") || url.starts_with("http://")) &&
         url.find("evil") == std::string::npos;
}

std::string StringAt(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}

// A rendered document: JSON, and an object.
json::object ParseObject(const std::string& text, const char* what) {
  json::error_code ec;
  json::value v = json::parse(text, ec);
  Check(!ec && v.is_object(), what);
  return std::move(v.as_object());
}

// One version document as a client sees it: its dist.tarball points at Pipy, at a file
// Pipy keeps, whose digests are the document's own.
void CheckVersionDoc(const json::object& doc, const std::string& name,
                     const pipy::npm::UpstreamPackument& p) {
  const json::value* dist = doc.if_contains("dist");
  Check(dist != nullptr && dist->is_object(), "a kept version has a dist object");
  const json::object& d = dist->as_object();
  const std::string tarball = StringAt(d, "tarball");
  const std::string prefix = kRegistry + name + "/-/";
  Check(tarball.starts_with(prefix), "dist.tarball is <registry><name>/-/...");
  const std::string file = tarball.substr(prefix.size());
  Check(!file.empty() && file != "." && file != ".." &&
            file.find_first_not_of(kFileChars) == std::string::npos,
        "a tarball file name is [A-Za-z0-9._+-]+");
  auto kept = p.tarballs.find(file);
  Check(kept != p.tarballs.end(), "a version's tarball is one Pipy keeps");
  Check(Fetchable(kept->second.url), "a kept tarball is on a fetchable host");
  Check(!kept->second.integrity.empty() || !kept->second.shasum.empty(),
        "a kept tarball has a digest");
  // The client checks the document's digests; Pipy checks the kept ones: they must agree,
  // or one of two versions that share a file name is served the other's bytes.
  Check(kept->second.integrity == pipy::npm::Sha512Entry(StringAt(d, "integrity")),
        "the kept integrity is the version's own");
  const std::string shasum = StringAt(d, "shasum");
  Check(kept->second.shasum.empty() || kept->second.shasum == shasum,
        "the kept shasum is the version's own");
}

void CheckVersions(const json::object& doc, const std::string& name,
                   const pipy::npm::UpstreamPackument& p) {
  const json::value* versions = doc.if_contains("versions");
  Check(versions != nullptr && versions->is_object(), "a packument has a versions object");
  for (const auto& [version, v] : versions->as_object()) {
    Check(pipy::semver::Version::Parse(version).has_value(), "every version key is SemVer");
    Check(v.is_object(), "a version is an object");
    CheckVersionDoc(v.as_object(), name, p);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::size_t nl = input.find('\n');
  std::string name = "left-pad";
  std::string_view body = input;
  if (nl != std::string_view::npos) {
    // The proxy asks only for names it validated.
    if (pipy::npm_name::Validate(input.substr(0, nl)).ok()) {
      name = std::string(input.substr(0, nl));
    }
    body = input.substr(nl + 1);
  }
  auto read = pipy::npm::ReadUpstreamPackument(body, name, kRegistry, Fetchable);
  if (!read) {
    Check(read.error().code() == pipy::StatusCode::kBadGateway,
          "an unreadable answer is kBadGateway");
    return 0;
  }
  const pipy::npm::UpstreamPackument& p = *read;
  Check(StringAt(p.full, "name") == name, "the packument is of the name asked for");
  Check(!p.full.contains("_attachments"), "no attachments are passed on");
  for (const auto& [file, tarball] : p.tarballs) {
    Check(!file.empty() && file != "." && file != ".." &&
              file.find_first_not_of(kFileChars) == std::string::npos,
          "a kept tarball file name is [A-Za-z0-9._+-]+");
    Check(Fetchable(tarball.url), "a kept tarball is on a fetchable host");
  }
  CheckVersions(p.full, name, p);
  const json::object& versions = p.full.at("versions").as_object();
  // A dist-tags that is no object passes through as it is: clients ignore it.
  if (const json::value* tags = p.full.if_contains("dist-tags"); tags && tags->is_object()) {
    for (const auto& [tag, version] : tags->as_object()) {
      Check(version.is_string() && versions.contains(version.as_string()),
            "a dist-tag points at a kept version");
    }
  }

  auto full = pipy::npm::RenderUpstream(p, "full");
  Check(full.has_value(), "the full packument renders");
  json::object full_doc = ParseObject(*full, "the full packument is a JSON object");
  Check(full_doc == p.full, "the full packument is the one read");
  CheckVersions(full_doc, name, p);

  auto abbreviated = pipy::npm::RenderUpstream(p, "abbreviated");
  Check(abbreviated.has_value(), "the abbreviated packument renders");
  json::object abbreviated_doc =
      ParseObject(*abbreviated, "the abbreviated packument is a JSON object");
  Check(StringAt(abbreviated_doc, "name") == name, "the abbreviated packument is of the name");
  CheckVersions(abbreviated_doc, name, p);
  Check(abbreviated_doc.at("versions").as_object().size() == versions.size(),
        "the abbreviated packument has the full one's versions");

  auto latest = pipy::npm::RenderUpstream(p, "v:latest");
  const json::value* tags = p.full.if_contains("dist-tags");
  const bool tagged = tags != nullptr && tags->is_object() && tags->as_object().contains("latest");
  Check(latest.has_value() == tagged, "v:latest renders exactly when the latest tag is kept");
  if (latest) {
    json::object latest_doc = ParseObject(*latest, "v:latest is a JSON object");
    const std::string version(tags->as_object().at("latest").as_string());
    Check(latest_doc == versions.at(version), "v:latest is the tagged version's document");
    CheckVersionDoc(latest_doc, name, p);
  } else {
    Check(latest.error().code() == pipy::StatusCode::kNotFound, "a missing version is kNotFound");
  }
  for (const auto& [version, v] : versions) {
    auto one = pipy::npm::RenderUpstream(p, "v:" + std::string(version));
    Check(one.has_value(), "every kept version renders");
    break;  // one is enough: they share the code path
  }
  return 0;
}
