// The npm package page (RenderNpmPackagePage in pages.h).
#include <map>
#include <vector>

#include "app/page_layout.h"
#include "core/escape.h"
#include "core/npm_name.h"
#include "npm/npm_format.h"
#include "web/pages.h"

namespace pipy::web {
namespace {

std::string DeprecatedNote(std::string_view message) {
  if (message.empty()) {
    return "";
  }
  return " <span class=\"yanked deprecated\">deprecated</span> <span class=\"muted "
         "deprecation\">" + HtmlEscape(message) + "</span>";
}

// The tags pointing at each version: version -> "latest, next".
std::map<std::string, std::string> TagsByVersion(const std::map<std::string, std::string>& tags) {
  std::map<std::string, std::string> out;
  for (const auto& [tag, version] : tags) {
    std::string& list = out[version];
    list += list.empty() ? tag : ", " + tag;
  }
  return out;
}

void AppendInstall(std::string_view name, std::string_view registry_url, std::string& out) {
  const std::string n = HtmlEscape(name);
  const std::string registry = HtmlEscape(registry_url);
  out += "<h2>Install</h2>\n<pre class=\"install\">npm install " + n + "\nyarn add " + n +
         "\npnpm add " + n + "</pre>\n";
  npm_name::Parts parts = npm_name::Split(name);
  out += "<p>With this registry in <code>.npmrc</code> (npm, yarn and pnpm read it):</p>\n";
  out += "<pre class=\"npmrc\">";
  if (!parts.scope.empty()) {
    // Only this scope from here: other packages still come from the default registry.
    out += "@" + HtmlEscape(parts.scope) + ":";
  }
  out += "registry=" + registry + "</pre>\n";
  out += "<p class=\"muted\">Or once: <code>npm install --registry " + registry + " " + n +
         "</code>. A token, when reads need one: see <a href=\"/help\">Help</a>.</p>\n";
}

void AppendTags(const std::map<std::string, std::string>& tags, std::string& out) {
  out += "<h2>Dist-tags</h2>\n";
  if (tags.empty()) {
    out += "<p class=\"muted\">No dist-tags.</p>\n";
    return;
  }
  out += "<table class=\"dist-tags\"><tr><th>Tag</th><th>Version</th></tr>\n";
  for (const auto& [tag, version] : tags) {
    out += "<tr><td>" + HtmlEscape(tag) + "</td><td><a href=\"#v" + HtmlEscape(version) + "\">" +
           HtmlEscape(version) + "</a></td></tr>\n";
  }
  out += "</table>\n";
}

void AppendTarballRow(std::string_view name, const catalog::FileRecord& f, std::string& out) {
  // The tarball's registry URL (npm's standard layout), relative to this server.
  std::string href = "/npm/" + NpmNamePath(name) + "/-/" + app::EncodePathSegment(f.filename);
  out += "<tr><td><a href=\"" + HtmlEscape(href) + "\">" + HtmlEscape(f.filename) + "</a>";
  if (f.provenance) {
    const std::string id = std::to_string(f.provenance->build_id);
    out += "<br><span class=\"muted provenance\">built from <code>";
    out += HtmlEscape(f.provenance->commit.substr(0, 12));
    out += "</code> by <a href=\"/builds/" + id + "\">build " + id + "</a>, tests ";
    out += HtmlEscape(f.provenance->test_result);
    out += "</span>";
  }
  out += "</td><td>" + app::FormatSize(f.size) + "</td><td class=\"hash\">sha256 " +
         HtmlEscape(f.sha256) + "<br>" + HtmlEscape(npm::Integrity(f)) + "<br>sha1 " +
         HtmlEscape(npm::Shasum(f)) + "</td><td>" + app::FormatUtc(f.upload_time_ms) +
         "</td><td>" + HtmlEscape(f.uploader) + "</td></tr>\n";
}

void AppendVersion(std::string_view name, const catalog::ReleaseRecord& release,
                   const std::vector<const catalog::FileRecord*>& files,
                   std::string_view tag_list, std::string& out) {
  out += "<section class=\"release\" id=\"v" + HtmlEscape(release.version) + "\"><h3>";
  out += HtmlEscape(release.version);
  if (!tag_list.empty()) {
    out += " <span class=\"muted tags\">(" + HtmlEscape(tag_list) + ")</span>";
  }
  out += DeprecatedNote(release.deprecated);
  out += "</h3>\n<p class=\"muted\">published " + app::FormatUtc(release.created_ms) + "</p>\n";
  if (files.empty()) {
    out += "<p class=\"muted\">No tarball (taken down).</p></section>\n";
    return;
  }
  out += "<table><tr><th>Tarball</th><th>Size</th><th>Digests</th><th>Uploaded</th>"
         "<th>By</th></tr>\n";
  for (const catalog::FileRecord* f : files) {
    AppendTarballRow(name, *f, out);
  }
  out += "</table></section>\n";
}

}  // namespace

bool IsNpmReadmePlaceholder(std::string_view readme) {
  return readme == "ERROR: No README data found!";
}

const catalog::ReleaseRecord* NpmReadmeRelease(const index::ProjectView& view,
                                               const std::map<std::string, std::string>& tags) {
  if (auto latest = tags.find("latest"); latest != tags.end()) {
    for (const catalog::ReleaseRecord& r : view.releases) {
      if (r.version == latest->second) {
        return &r;
      }
    }
  }
  return view.releases.empty() ? nullptr : &view.releases.front();
}

std::string RenderNpmPackagePage(const index::ProjectView& view,
                                 const std::map<std::string, std::string>& tags,
                                 std::string_view registry_url, std::string_view readme_html) {
  const std::string& name = view.project.name;
  const catalog::ReleaseRecord* current = NpmReadmeRelease(view, tags);

  std::map<std::string, std::vector<const catalog::FileRecord*>> files_by_version;
  for (const catalog::FileRecord& f : view.files) {
    files_by_version[f.version].push_back(&f);
  }

  std::string body;
  body += "<h1>" + HtmlEscape(name);
  if (current != nullptr) {
    body += " <span class=\"muted\">" + HtmlEscape(current->version) + "</span>";
  }
  body += "</h1>\n<p class=\"muted\"><code class=\"format\">npm</code> package</p>\n";
  if (current != nullptr && !current->metadata.summary.empty()) {
    body += "<p class=\"summary\">" + HtmlEscape(current->metadata.summary) + "</p>\n";
  }
  if (current != nullptr && !current->deprecated.empty()) {
    body += "<p>" + DeprecatedNote(current->deprecated) + "</p>\n";
  }
  AppendInstall(name, registry_url, body);
  if (current != nullptr && !readme_html.empty()) {
    body += "<div class=\"readme\"><h2>Readme <span class=\"muted\">(" +
            HtmlEscape(current->version) + ")</span></h2>\n";
    body += readme_html;
    body += "</div>\n";
  }
  AppendTags(tags, body);
  body += "<h2>Versions</h2>\n";
  if (view.releases.empty()) {
    body += "<p class=\"muted\">No versions.</p>\n";
  }
  static const std::vector<const catalog::FileRecord*> kNoFiles;
  const std::map<std::string, std::string> tags_by_version = TagsByVersion(tags);
  for (const catalog::ReleaseRecord& release : view.releases) {
    auto files = files_by_version.find(release.version);
    auto tag_list = tags_by_version.find(release.version);
    AppendVersion(name, release, files == files_by_version.end() ? kNoFiles : files->second,
                  tag_list == tags_by_version.end() ? "" : tag_list->second, body);
  }
  return app::Layout(name, body);
}

}  // namespace pipy::web
