#include "upstream/project_page.h"

#include <algorithm>
#include <set>

#include "core/escape.h"
#include "core/filename.h"
#include "core/strings.h"
#include "core/version.h"
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

void AppendHtmlHead(std::string& out, std::string_view api_version, std::string_view title) {
  out += "<!DOCTYPE html>\n<html>\n  <head>\n    <meta name=\"pypi:repository-version\" "
         "content=\"";
  out += api_version;
  out += "\">\n    <title>";
  out += title;
  out += "</title>\n  </head>\n  <body>\n    <h1>";
  out += title;
  out += "</h1>\n";
}

bool AllSizesKnown(const UpstreamProject& project) {
  return std::all_of(project.files.begin(), project.files.end(),
                     [](const UpstreamFile& f) { return f.size.has_value(); });
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
  std::string out;
  out.reserve(512 + project.files.size() * 400);
  std::string title = "Links for " + HtmlEscape(project.name);
  AppendHtmlHead(out, AllSizesKnown(project) ? python::kApiVersion : "1.0", title);
  for (const UpstreamFile& f : project.files) {
    std::string url = ProxiedFileUrl(f);
    python::AppendFileAnchor(out, {.url = url,
                                   .sha256 = f.sha256,
                                   .filename = f.filename,
                                   .requires_python = f.requires_python,
                                   .metadata_sha256 = f.has_metadata ? f.metadata_sha256 : "",
                                   .yanked = f.yanked,
                                   .yanked_reason = f.yanked_reason});
  }
  out += "  </body>\n</html>\n";
  return out;
}

std::string RenderProjectJson(const UpstreamProject& project) {
  const bool v11 = AllSizesKnown(project);
  std::string out;
  out.reserve(256 + project.files.size() * 400);
  out += "{\"meta\":{\"api-version\":\"";
  out += v11 ? python::kApiVersion : "1.0";
  out += "\"},\"name\":";
  python::AppendJsonString(out, project.name);
  if (v11) {
    // PEP 700: every version with a file, newest first.
    std::vector<Version> versions;
    for (const UpstreamFile& f : project.files) {
      auto v = Version::Parse(VersionOfFilename(f.filename));
      if (v && std::find(versions.begin(), versions.end(), *v) == versions.end()) {
        versions.push_back(*v);
      }
    }
    std::sort(versions.begin(), versions.end(),
              [](const Version& a, const Version& b) { return b < a; });
    out += ",\"versions\":[";
    for (std::size_t i = 0; i < versions.size(); ++i) {
      if (i != 0) {
        out += ',';
      }
      python::AppendJsonString(out, versions[i].ToString());
    }
    out += ']';
  }
  out += ",\"files\":[";
  for (std::size_t i = 0; i < project.files.size(); ++i) {
    const UpstreamFile& f = project.files[i];
    if (i != 0) {
      out += ',';
    }
    out += "{\"filename\":";
    python::AppendJsonString(out, f.filename);
    out += ",\"url\":";
    python::AppendJsonString(out, ProxiedFileUrl(f));
    out += ",\"hashes\":{\"sha256\":";
    python::AppendJsonString(out, f.sha256);
    out += '}';
    if (!f.requires_python.empty()) {
      out += ",\"requires-python\":";
      python::AppendJsonString(out, f.requires_python);
    }
    out += ",\"core-metadata\":";
    if (f.has_metadata) {
      out += "{\"sha256\":";
      python::AppendJsonString(out, f.metadata_sha256);
      out += '}';
    } else {
      out += "false";
    }
    out += ",\"yanked\":";
    if (!f.yanked) {
      out += "false";
    } else if (f.yanked_reason.empty()) {
      out += "true";
    } else {
      python::AppendJsonString(out, f.yanked_reason);
    }
    if (v11) {
      out += ",\"size\":";
      out += std::to_string(*f.size);
    }
    if (!f.upload_time.empty()) {
      out += ",\"upload-time\":";
      python::AppendJsonString(out, f.upload_time);
    }
    out += '}';
  }
  out += "]}";
  return out;
}

}  // namespace pipy::upstream
