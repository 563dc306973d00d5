#include "python/simple_pages.h"

#include <cstdio>

#include "core/escape.h"
#include "core/strings.h"
#include "core/timestamp.h"
#include "python/attributes.h"

namespace pipy::python {
namespace {

bool IsUrlSafe(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == '.' || c == '_' || c == '~' || c == '+' || c == '!' || c == '-';
}

void AppendPercentEncoded(std::string& out, std::string_view text) {
  for (char c : text) {
    if (IsUrlSafe(c)) {
      out += c;
      continue;
    }
    auto byte = static_cast<unsigned char>(c);
    out += '%';
    AppendHexByte(out, byte, HexCase::kUpper);
  }
}

// The length of the UTF-8 sequence a lead byte announces, 0 for a byte that cannot lead.
std::size_t Utf8Length(unsigned char lead) {
  if (lead >= 0xc2 && lead <= 0xdf) {
    return 2;
  }
  if (lead >= 0xe0 && lead <= 0xef) {
    return 3;
  }
  if (lead >= 0xf0 && lead <= 0xf4) {
    return 4;
  }
  return 0;
}

void AppendHtmlHead(std::string& out, std::string_view api_version, std::string_view title) {
  out += "<!DOCTYPE html>\n<html>\n  <head>\n    <meta name=\"pypi:repository-version\" content=\"";
  out += api_version;
  out += "\">\n    <title>";
  out += title;
  out += "</title>\n  </head>\n  <body>\n";
}

constexpr std::string_view kHtmlTail = "  </body>\n</html>\n";

void AppendFileAnchor(std::string& out, const SimpleFile& file) {
  out += "    <a href=\"";
  out += HtmlEscape(file.url);
  out += "#sha256=";
  out += file.sha256;
  out += '"';
  if (!file.requires_python.empty()) {
    out += " data-requires-python=\"";
    out += HtmlEscape(file.requires_python);
    out += '"';
  }
  if (!file.metadata_sha256.empty()) {
    // PEP 714 renamed the attribute; older pips only know the PEP 658 name.
    out += " data-core-metadata=\"sha256=";
    out += file.metadata_sha256;
    out += "\" data-dist-info-metadata=\"sha256=";
    out += file.metadata_sha256;
    out += '"';
  }
  if (file.yanked) {
    out += " data-yanked=\"";
    out += HtmlEscape(file.yanked_reason);
    out += '"';
  }
  out += '>';
  out += HtmlEscape(file.filename);
  out += "</a><br>\n";
}

void AppendMeta(std::string& out, std::string_view api_version = kApiVersion) {
  out += "{\"meta\":{\"api-version\":\"";
  out += api_version;
  out += "\"}";
}

}  // namespace

void AppendJsonString(std::string& out, std::string_view text) {
  out += '"';
  for (std::size_t i = 0; i < text.size();) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
      ++i;
    } else if (c == '\n') {
      out += "\\n";
      ++i;
    } else if (c == '\t') {
      out += "\\t";
      ++i;
    } else if (c == '\r') {
      out += "\\r";
      ++i;
    } else if (c < 0x20 || c == 0x7f) {
      out += "\\u00";
      AppendHexByte(out, c);
      ++i;
    } else if (c < 0x80) {
      out += static_cast<char>(c);
      ++i;
    } else {
      std::size_t n = Utf8Length(c);
      if (n != 0 && i + n <= text.size() && IsValidUtf8(text.substr(i, n))) {
        out.append(text.substr(i, n));
        i += n;
      } else {
        out += "\\ufffd";
        ++i;
      }
    }
  }
  out += '"';
}

std::string FormatUploadTime(std::int64_t epoch_ms) { return FormatUtcTimestamp(epoch_ms, 6); }

std::string FileUrl(const catalog::FileRecord& file) {
  std::string url = "/files/";
  url += file.sha256;
  url += '/';
  AppendPercentEncoded(url, file.filename);
  return url;
}

std::string RenderRootHtml(const std::vector<catalog::ProjectRecord>& projects) {
  std::string out;
  out.reserve(256 + projects.size() * 96);
  AppendHtmlHead(out, kApiVersion, "Simple index");
  for (const catalog::ProjectRecord& p : projects) {
    out += "    <a href=\"/simple/";
    AppendPercentEncoded(out, p.name);
    out += "/\">";
    out += HtmlEscape(p.display_name.empty() ? p.name : p.display_name);
    out += "</a><br>\n";
  }
  out += kHtmlTail;
  return out;
}

std::string RenderRootJson(const std::vector<catalog::ProjectRecord>& projects) {
  std::string out;
  out.reserve(64 + projects.size() * 48);
  AppendMeta(out);
  out += ",\"projects\":[";
  bool first = true;
  for (const catalog::ProjectRecord& p : projects) {
    if (!first) {
      out += ',';
    }
    first = false;
    out += "{\"name\":";
    AppendJsonString(out, p.display_name.empty() ? p.name : p.display_name);
    out += '}';
  }
  out += "]}";
  return out;
}

std::string RenderSimpleProjectHtml(const SimpleProjectPage& page) {
  std::string out;
  out.reserve(512 + page.files.size() * 400);
  std::string title = "Links for " + HtmlEscape(page.title_name);
  AppendHtmlHead(out, page.api_version, title);
  out += "    <h1>";
  out += title;
  out += "</h1>\n";
  for (const SimpleFile& f : page.files) {
    AppendFileAnchor(out, f);
  }
  out += kHtmlTail;
  return out;
}

std::string RenderSimpleProjectJson(const SimpleProjectPage& page) {
  std::string out;
  out.reserve(256 + page.files.size() * 400);
  AppendMeta(out, page.api_version);
  out += ",\"name\":";
  AppendJsonString(out, page.name);
  if (page.versions) {
    out += ",\"versions\":[";
    for (std::size_t i = 0; i < page.versions->size(); ++i) {
      if (i != 0) {
        out += ',';
      }
      AppendJsonString(out, (*page.versions)[i]);
    }
    out += ']';
  }
  out += ",\"files\":[";
  for (std::size_t i = 0; i < page.files.size(); ++i) {
    const SimpleFile& f = page.files[i];
    if (i != 0) {
      out += ',';
    }
    out += "{\"filename\":";
    AppendJsonString(out, f.filename);
    out += ",\"url\":";
    AppendJsonString(out, f.url);
    out += ",\"hashes\":{\"sha256\":";
    AppendJsonString(out, f.sha256);
    out += '}';
    if (!f.requires_python.empty()) {
      out += ",\"requires-python\":";
      AppendJsonString(out, f.requires_python);
    }
    out += ",\"core-metadata\":";
    if (f.metadata_sha256.empty()) {
      out += "false";
    } else {
      out += "{\"sha256\":";
      AppendJsonString(out, f.metadata_sha256);
      out += '}';
    }
    out += ",\"yanked\":";
    if (!f.yanked) {
      out += "false";
    } else if (f.yanked_reason.empty()) {
      out += "true";
    } else {
      AppendJsonString(out, f.yanked_reason);
    }
    if (f.size) {
      out += ",\"size\":";
      out += std::to_string(*f.size);
    }
    if (!f.upload_time.empty()) {
      out += ",\"upload-time\":";
      AppendJsonString(out, f.upload_time);
    }
    out += '}';
  }
  out += "]}";
  return out;
}

namespace {

// This index's page: every file with its size and upload time, so always api-version 1.1.
SimpleProjectPage PageOf(const index::ProjectView& view) {
  SimpleProjectPage page;
  page.name = view.project.name;
  page.title_name =
      view.project.display_name.empty() ? view.project.name : view.project.display_name;
  page.versions.emplace();
  page.versions->reserve(view.releases.size());
  for (const catalog::ReleaseRecord& release : view.releases) {
    page.versions->push_back(release.version);
  }
  page.files.reserve(view.files.size());
  for (const catalog::FileRecord& f : view.files) {
    page.files.push_back({.url = FileUrl(f),
                          .filename = f.filename,
                          .sha256 = f.sha256,
                          .requires_python = RequiresPython(f),
                          .metadata_sha256 = MetadataSha256(f),
                          .yanked = f.yanked,
                          .yanked_reason = f.yanked_reason,
                          .size = f.size,
                          .upload_time = FormatUploadTime(f.upload_time_ms)});
  }
  return page;
}

}  // namespace

std::string RenderProjectHtml(const index::ProjectView& view) {
  return RenderSimpleProjectHtml(PageOf(view));
}

std::string RenderProjectJson(const index::ProjectView& view) {
  return RenderSimpleProjectJson(PageOf(view));
}

std::string RenderRoot(SimpleFormat format, const std::vector<catalog::ProjectRecord>& projects) {
  return format == SimpleFormat::kJsonV1 ? RenderRootJson(projects) : RenderRootHtml(projects);
}

std::string RenderProject(SimpleFormat format, const index::ProjectView& view) {
  return format == SimpleFormat::kJsonV1 ? RenderProjectJson(view) : RenderProjectHtml(view);
}

}  // namespace pipy::python
