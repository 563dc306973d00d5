#include "upstream/project_page.h"

#include <algorithm>
#include <optional>
#include <set>
#include <string_view>
#include <vector>

#include "core/filename.h"
#include "core/strings.h"
#include "core/pep440_version.h"
#include "python/simple_pages.h"

namespace pipy::upstream {
namespace {

bool IsUrlSafe(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == '.' || c == '_' || c == '~' || c == '+' || c == '!' || c == '-';
}

std::string VersionOfFilename(std::string_view filename) {
  if (filename.ends_with(".whl")) {
    auto wheel = ParseWheelFilename(filename);
    return wheel ? wheel->version.ToString() : "";
  }
  auto sdist = ParseSdistFilename(filename);
  return sdist ? sdist->version.ToString() : "";
}

bool AllSizesKnown(const UpstreamProject& project) {
  return std::all_of(project.files.begin(), project.files.end(),
                     [](const UpstreamFile& f) { return f.size.has_value(); });
}

// The page in python/'s model. PEP 700's fields only when the upstream gave every file's
// size: then api-version 1.1 with "versions" (every version with a file, newest first)
// and sizes; else 1.0 without them. An upload time is shown when the upstream gave one.
python::SimpleProjectPage PageOf(const UpstreamProject& project) {
  const bool v11 = AllSizesKnown(project);
  python::SimpleProjectPage page;
  page.api_version = v11 ? python::kApiVersion : "1.0";
  page.name = project.name;
  page.title_name = project.name;
  if (v11) {
    std::vector<pep440::Version> versions;
    for (const UpstreamFile& f : project.files) {
      auto v = pep440::Version::Parse(VersionOfFilename(f.filename));
      if (v && std::find(versions.begin(), versions.end(), *v) == versions.end()) {
        versions.push_back(*v);
      }
    }
    std::sort(versions.begin(), versions.end(),
              [](const pep440::Version& a, const pep440::Version& b) { return b < a; });
    page.versions.emplace();
    for (const pep440::Version& v : versions) {
      page.versions->push_back(v.ToString());
    }
  }
  for (const UpstreamFile& f : project.files) {
    page.files.push_back({.url = ProxiedFileUrl(f),
                          .filename = f.filename,
                          .sha256 = f.sha256,
                          .requires_python = f.requires_python,
                          .metadata_sha256 = f.has_metadata ? std::string_view(f.metadata_sha256)
                                                           : std::string_view(),
                          .yanked = f.yanked,
                          .yanked_reason = f.yanked_reason,
                          .size = v11 ? f.size : std::nullopt,
                          .upload_time = f.upload_time});
  }
  return page;
}

}  // namespace

std::string ProjectOfFilename(std::string_view filename) {
  if (filename.ends_with(".whl")) {
    auto wheel = ParseWheelFilename(filename);
    return wheel ? wheel->name : "";
  }
  auto sdist = ParseSdistFilename(filename);
  return sdist ? sdist->name : "";
}

bool IsSha256Hex(std::string_view text) {
  return text.size() == 64 && std::all_of(text.begin(), text.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

UpstreamProject SelectServable(const UpstreamProject& project, const UrlPolicy& policy) {
  UpstreamProject out;
  out.name = project.name;
  std::set<std::string, std::less<>> seen;
  for (const UpstreamFile& file : project.files) {
    if (ProjectOfFilename(file.filename) != project.name || !IsSha256Hex(file.sha256) ||
        !policy.Check(file.url).ok() || seen.contains(file.filename)) {
      continue;
    }
    seen.insert(file.filename);
    UpstreamFile kept = file;
    if (!IsSha256Hex(kept.metadata_sha256)) {
      kept.has_metadata = false;
      kept.metadata_sha256.clear();
    }
    out.files.push_back(std::move(kept));
  }
  return out;
}

std::string ProxiedFileUrl(const UpstreamFile& file) {
  std::string url(kFilesPrefix);
  url += file.sha256;
  url += '/';
  for (char c : file.filename) {
    if (IsUrlSafe(c)) {
      url += c;
      continue;
    }
    url += '%';
    AppendHexByte(url, static_cast<unsigned char>(c), HexCase::kUpper);
  }
  return url;
}

std::string RenderProjectHtml(const UpstreamProject& project) {
  return python::RenderSimpleProjectHtml(PageOf(project));
}

std::string RenderProjectJson(const UpstreamProject& project) {
  return python::RenderSimpleProjectJson(PageOf(project));
}

}  // namespace pipy::upstream
