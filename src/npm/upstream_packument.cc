#include "npm/upstream_packument.h"

#include <sstream>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "core/semver.h"
#include "npm/json_numbers.h"
#include "npm/packument.h"

namespace pipy::npm {
namespace {

namespace json = boost::json;

std::string StringAt(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}

// The last path segment of a URL (no query or fragment), or "" when it is no file name.
std::string FileOf(std::string_view url) {
  url = url.substr(0, url.find_first_of("?#"));
  std::size_t slash = url.rfind('/');
  std::string_view file = slash == std::string_view::npos ? url : url.substr(slash + 1);
  // Only what a tarball name of the standard layout uses: it goes into Pipy's URLs.
  constexpr std::string_view kFileChars =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-+";
  if (file.empty() || file == "." || file == ".." ||
      file.find_first_not_of(kFileChars) != std::string_view::npos) {
    return "";
  }
  return std::string(file);
}

bool IsHex(std::string_view s, std::size_t size) {
  return s.size() == size &&
         s.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

}  // namespace

std::string Sha512Entry(std::string_view integrity) {
  std::istringstream entries{std::string(integrity)};
  std::string entry;
  while (entries >> entry) {
    if (entry.starts_with("sha512-") && entry.size() > 7) {
      return entry.substr(0, entry.find('?'));
    }
  }
  return "";
}

Result<UpstreamPackument> ReadUpstreamPackument(
    std::string_view body, const std::string& name, const std::string& registry_url,
    const std::function<bool(const std::string& url)>& fetchable) {
  json::error_code ec;
  json::value parsed = json::parse(body, ec);
  if (ec || !parsed.is_object()) {
    return Status(StatusCode::kBadGateway,
                  "the upstream's packument of '" + name + "' is not a JSON object");
  }
  if (!AllNumbersFinite(parsed)) {
    return Status(StatusCode::kBadGateway, "the upstream's packument of '" + name +
                                               "' has a number out of a double's range");
  }
  UpstreamPackument out;
  out.full = std::move(parsed.as_object());
  if (StringAt(out.full, "name") != name) {
    return Status(StatusCode::kBadGateway,
                  "the upstream answered for another package than '" + name + "'");
  }
  json::object kept;
  if (json::value* versions = out.full.if_contains("versions"); versions && versions->is_object()) {
    for (auto& [version, doc] : versions->as_object()) {
      // A version npm could not read (or a key that is no version at all) is not served.
      if (!doc.is_object() || !semver::Version::Parse(version).has_value()) {
        continue;
      }
      json::value* dist = doc.as_object().if_contains("dist");
      if (dist == nullptr || !dist->is_object()) {
        continue;
      }
      json::object& d = dist->as_object();
      UpstreamTarball tarball{StringAt(d, "tarball"), Sha512Entry(StringAt(d, "integrity")),
                              StringAt(d, "shasum")};
      if (!IsHex(tarball.shasum, 40)) {
        tarball.shasum.clear();
      }
      const std::string file = FileOf(tarball.url);
      // A file name two versions share would be verified against one version's digest:
      // only the first keeps it.
      if (file.empty() || (tarball.integrity.empty() && tarball.shasum.empty()) ||
          !fetchable(tarball.url) || out.tarballs.contains(file)) {
        continue;
      }
      d["tarball"] = TarballUrl(registry_url, name, file);
      out.tarballs[file] = std::move(tarball);
      kept[version] = std::move(doc);
    }
  }
  if (json::value* tags = out.full.if_contains("dist-tags"); tags && tags->is_object()) {
    json::object still;
    for (const auto& [tag, version] : tags->as_object()) {
      if (version.is_string() && kept.contains(version.as_string())) {
        still[tag] = version;
      }
    }
    *tags = std::move(still);
  }
  out.full["versions"] = std::move(kept);
  out.full.erase("_attachments");
  return out;
}

Result<std::string> RenderUpstream(const UpstreamPackument& packument, const std::string& kind) {
  const json::object& full = packument.full;
  const json::object* versions = nullptr;
  if (const json::value* v = full.if_contains("versions"); v && v->is_object()) {
    versions = &v->as_object();
  }
  if (kind == "full") {
    return json::serialize(full);
  }
  if (kind == "abbreviated") {
    json::object doc;
    doc["name"] = full.at("name");
    json::object abbreviated;
    if (versions != nullptr) {
      for (const auto& [version, v] : *versions) {
        abbreviated[version] = Abbreviate(v.as_object());
      }
    }
    if (const json::value* tags = full.if_contains("dist-tags")) {
      doc["dist-tags"] = *tags;
    }
    doc["versions"] = std::move(abbreviated);
    if (const json::value* time = full.if_contains("time"); time && time->is_object()) {
      if (const json::value* modified = time->as_object().if_contains("modified")) {
        doc["modified"] = *modified;
      }
      doc["time"] = *time;
    }
    return json::serialize(doc);
  }
  std::string wanted = kind.substr(2);
  if (const json::value* tags = full.if_contains("dist-tags"); tags && tags->is_object()) {
    if (const json::value* tagged = tags->as_object().if_contains(wanted);
        tagged && tagged->is_string()) {
      wanted = std::string(tagged->as_string());
    }
  }
  if (versions != nullptr) {
    if (const json::value* v = versions->if_contains(wanted)) {
      return json::serialize(*v);
    }
  }
  return NotFound("the package has no version or tag '" + kind.substr(2) + "'");
}

}  // namespace pipy::npm
