// The project page (RenderProjectPage in pages.h).
#include <map>

#include "app/page_layout.h"
#include "core/escape.h"
#include "python/attributes.h"
#include "web/markdown.h"
#include "web/pages.h"

namespace pipy::web {
namespace {

constexpr std::string_view kYankedBadge = "<span class=\"yanked\">yanked</span>";

// PEP 592: a yanked release stays installable when pinned, so it is listed, marked.
std::string YankNote(bool yanked, std::string_view reason) {
  if (!yanked) {
    return "";
  }
  std::string out(" ");
  out += kYankedBadge;
  if (!reason.empty()) {
    out += " <span class=\"muted\">";
    out += HtmlEscape(reason);
    out += "</span>";
  }
  return out;
}

void AppendFileRow(const catalog::FileRecord& f, std::string& out) {
  out += "<tr><td><a href=\"/files/";
  out += HtmlEscape(app::EncodePathSegment(f.sha256));
  out += "/";
  out += HtmlEscape(app::EncodePathSegment(f.filename));
  out += "\">";
  out += HtmlEscape(f.filename);
  out += "</a>";
  if (f.provenance) {
    // Files the monorepo builder published say where they came from.
    const std::string id = std::to_string(f.provenance->build_id);
    out += "<br><span class=\"muted provenance\">built from <code>";
    out += HtmlEscape(f.provenance->commit.substr(0, 12));
    out += "</code> by <a href=\"/builds/" + id + "\">build " + id + "</a>, tests ";
    out += HtmlEscape(f.provenance->test_result);
    out += "</span>";
  }
  out += "</td><td>";
  out += app::FormatSize(f.size);
  out += "</td><td class=\"hash\">";
  out += HtmlEscape(f.sha256);
  out += "</td><td>";
  out += app::FormatUtc(f.upload_time_ms);
  out += "</td></tr>\n";
}

void AppendRelease(const catalog::ReleaseRecord& release,
                   const std::vector<const catalog::FileRecord*>& files, std::string& out) {
  out += "<section class=\"release\"><h3>";
  out += HtmlEscape(release.version);
  out += YankNote(release.yanked, release.yanked_reason);
  out += "</h3>\n<p class=\"muted\">released ";
  out += app::FormatUtc(release.created_ms);
  std::string requires_python(python::RequiresPython(release.metadata));
  if (requires_python.empty() && !files.empty()) {
    requires_python = python::RequiresPython(*files.front());
  }
  if (!requires_python.empty()) {
    out += " &middot; Requires-Python: <code>";
    out += HtmlEscape(requires_python);
    out += "</code>";
  }
  out += "</p>\n";
  if (files.empty()) {
    out += "<p class=\"muted\">No files.</p></section>\n";
    return;
  }
  out += "<table><tr><th>File</th><th>Size</th><th>SHA-256</th><th>Uploaded</th></tr>\n";
  for (const catalog::FileRecord* f : files) {
    AppendFileRow(*f, out);
  }
  out += "</table></section>\n";
}

}  // namespace

const catalog::ReleaseRecord* ReadmeRelease(const index::ProjectView& view) {
  for (const catalog::ReleaseRecord& r : view.releases) {
    if (!r.yanked) {
      return &r;
    }
  }
  return view.releases.empty() ? nullptr : &view.releases.front();
}

std::string RenderProjectPage(const index::ProjectView& view) {
  const catalog::ReleaseRecord* current = ReadmeRelease(view);
  if (current == nullptr) {
    return RenderProjectPage(view, "");
  }
  return RenderProjectPage(
      view, RenderDescription(current->metadata.description,
                              python::DescriptionContentType(current->metadata)));
}

std::string RenderProjectPage(const index::ProjectView& view, std::string_view readme_html) {
  const catalog::ProjectRecord& project = view.project;
  const std::string& display = project.display_name.empty() ? project.name : project.display_name;
  const catalog::ReleaseRecord* current = ReadmeRelease(view);

  std::map<std::string, std::vector<const catalog::FileRecord*>> files_by_version;
  for (const catalog::FileRecord& f : view.files) {
    files_by_version[f.version].push_back(&f);
  }

  std::string body;
  body += "<h1>";
  body += HtmlEscape(display);
  if (current != nullptr) {
    body += " <span class=\"muted\">";
    body += HtmlEscape(current->version);
    body += "</span>";
  }
  body += "</h1>\n";
  if (current != nullptr && !current->metadata.summary.empty()) {
    body += "<p>";
    body += HtmlEscape(current->metadata.summary);
    body += "</p>\n";
  }
  body += "<pre>pip install ";
  body += HtmlEscape(display);
  body += "</pre>\n<p class=\"muted\">Configure pip for this index: see <a href=\"/help\">Help</a>."
          "</p>\n";
  if (current != nullptr && !python::RequiresPython(current->metadata).empty()) {
    body += "<p>Requires-Python: <code>";
    body += HtmlEscape(python::RequiresPython(current->metadata));
    body += "</code></p>\n";
  }

  if (current != nullptr && !readme_html.empty()) {
    body += "<div class=\"readme\"><h2>Description <span class=\"muted\">(";
    body += HtmlEscape(current->version);
    body += ")</span></h2>\n";
    body += readme_html;
    body += "</div>\n";
  }
  body += "<h2>Versions</h2>\n";
  if (view.releases.empty()) {
    body += "<p class=\"muted\">No releases.</p>\n";
  }
  static const std::vector<const catalog::FileRecord*> kNoFiles;
  for (const catalog::ReleaseRecord& release : view.releases) {
    auto it = files_by_version.find(release.version);
    AppendRelease(release, it == files_by_version.end() ? kNoFiles : it->second, body);
  }

  return app::Layout(display, body);
}

}  // namespace pipy::web
