#include "web/pages.h"

#include "app/page_layout.h"
#include "app/static_assets.h"
#include "core/escape.h"
#include "core/npm_name.h"
#include "core/strings.h"

namespace pipy::web {

std::string NpmNamePath(std::string_view name) {
  std::string path;
  npm_name::Parts parts = npm_name::Split(name);
  if (!parts.scope.empty()) {
    // '@' is a valid path character; keeping it and the '/' makes the URL read as the name.
    path += "@" + app::EncodePathSegment(parts.scope) + "/";
  }
  path += app::EncodePathSegment(parts.basename);
  return path;
}

std::string NpmPackagePath(std::string_view name) { return "/npm-package/" + NpmNamePath(name); }

std::string ProjectPath(const catalog::ProjectRecord& project) {
  if (project.format == catalog::kNpm) {
    return NpmPackagePath(project.name);
  }
  return "/project/" + app::EncodePathSegment(project.name) + "/";
}

std::string RenderRootPage(const std::vector<catalog::ProjectRecord>& projects,
                           std::string_view query) {
  std::string needle = AsciiLower(query);
  std::string items;
  items.reserve(projects.size() * 160);
  std::size_t shown = 0;
  for (const catalog::ProjectRecord& p : projects) {
    const std::string& display = p.display_name.empty() ? p.name : p.display_name;
    std::string keys = p.name + " " + AsciiLower(display);
    if (!needle.empty() && keys.find(needle) == std::string::npos) {
      continue;
    }
    ++shown;
    items += "<li data-n=\"";
    items += HtmlEscape(keys);
    items += "\"><a href=\"";
    items += HtmlEscape(ProjectPath(p));
    items += "\">";
    items += HtmlEscape(display);
    items += "</a> <code class=\"format\">";
    items += HtmlEscape(p.format);
    items += "</code> <span class=\"muted\">last upload ";
    items += app::FormatUtc(p.last_upload_ms);
    items += "</span></li>\n";
  }
  std::string body;
  body.reserve(items.size() + 2000);
  body += "<h1>Projects</h1>\n<form method=\"get\" action=\"/\">"
          "<input type=\"search\" id=\"filter\" name=\"q\" placeholder=\"Filter projects\" "
          "aria-label=\"Filter projects\" autofocus value=\"";
  body += HtmlEscape(query);
  body += "\"> <noscript><button type=\"submit\">Filter</button></noscript></form>\n";
  body += "<p class=\"muted\" id=\"count\">";
  body += std::to_string(shown);
  body += shown == 1 ? " project" : " projects";
  if (!needle.empty()) {
    body += " of " + std::to_string(projects.size()) + " (<a href=\"/\">show all</a>)";
  }
  body += "</p>\n";
  if (projects.empty()) {
    body += "<p>No projects yet. See <a href=\"/help\">Help</a> to upload one.</p>\n";
  }
  body += "<ul class=\"projects\" id=\"projects\">\n";
  body += items;
  body += "</ul>\n";
  body += "<script src=\"" + app::FilterScript().path + "\"></script>\n";
  return app::Layout("Projects", body);
}

std::string RenderErrorPage(int status, std::string_view message) {
  std::string body = "<h1>" + std::to_string(status) + "</h1>\n<p>" + HtmlEscape(message) +
                     "</p>\n<p><a href=\"/\">All projects</a></p>\n";
  return app::Layout(std::to_string(status), body);
}

}  // namespace pipy::web
