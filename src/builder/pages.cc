#include "builder/pages.h"

#include "app/page_layout.h"
#include "core/escape.h"

namespace pipy::builder {
namespace {

std::string StatusBadge(catalog::BuildStatus status) {
  std::string name(catalog::BuildStatusName(status));
  return "<span class=\"build-" + name + "\">" + name + "</span>";
}

std::string ProjectCell(const catalog::BuildJob& job) {
  if (job.project.empty()) {
    return "<span class=\"muted\">-</span>";
  }
  std::string out = "<a href=\"/project/" + HtmlEscape(app::EncodePathSegment(job.project)) +
                    "/\">" + HtmlEscape(job.project) + "</a>";
  if (!job.version.empty()) {
    out += " " + HtmlEscape(job.version);
  }
  return out;
}

}  // namespace

std::string RenderBuildsPage(const std::vector<catalog::BuildJob>& jobs, int page_size) {
  std::string body = "<h1>Builds</h1>\n";
  if (jobs.empty()) {
    body += "<p class=\"muted\">No builds yet.</p>\n";
    return app::Layout("Builds", body);
  }
  body += "<table><tr><th>Build</th><th>Status</th><th>Module</th><th>Project</th>"
          "<th>Commit</th><th>Created</th><th>Finished</th><th>Log</th></tr>\n";
  for (const catalog::BuildJob& job : jobs) {
    const std::string id = std::to_string(job.id);
    body += "<tr><td><a href=\"/builds/" + id + "\">#" + id + "</a></td><td>";
    body += StatusBadge(job.status);
    if (!job.message.empty()) {
      body += "<br><span class=\"muted\">" + HtmlEscape(job.message) + "</span>";
    }
    body += "</td><td>" + HtmlEscape(job.source) + "/" + HtmlEscape(job.module) + "</td><td>";
    body += ProjectCell(job);
    body += "</td><td class=\"hash\">" + HtmlEscape(job.commit.substr(0, 12)) + "</td><td>";
    body += app::FormatUtc(job.created_ms) + "</td><td>" + app::FormatUtc(job.finished_ms);
    body += "</td><td><a href=\"/api/builds/" + id + "/log\">log</a></td></tr>\n";
  }
  body += "</table>\n";
  if (static_cast<int>(jobs.size()) >= page_size) {
    body += "<p><a href=\"/builds?before=" + std::to_string(jobs.back().id) +
            "\">Older builds</a></p>\n";
  }
  return app::Layout("Builds", body);
}

std::string RenderBuildPage(const catalog::BuildJob& job, const std::string& log) {
  const std::string id = std::to_string(job.id);
  std::string body;
  if (!catalog::IsFinished(job.status)) {
    body += "<meta http-equiv=\"refresh\" content=\"2\">\n";
  }
  body += "<h1>Build #" + id + " " + StatusBadge(job.status) + "</h1>\n<table>";
  auto row = [&body](std::string_view name, const std::string& value_html) {
    body += "<tr><th>" + std::string(name) + "</th><td>" + value_html + "</td></tr>\n";
  };
  row("Source", HtmlEscape(job.source));
  row("Module", HtmlEscape(job.module));
  row("Project", ProjectCell(job));
  row("Commit", "<span class=\"hash\">" + HtmlEscape(job.commit) + "</span>");
  row("Message", HtmlEscape(job.message));
  row("Created", app::FormatUtc(job.created_ms));
  row("Started", app::FormatUtc(job.started_ms));
  row("Finished", app::FormatUtc(job.finished_ms));
  body += "</table>\n<h2>Log <a class=\"muted\" href=\"/api/builds/" + id +
          "/log\">(plain text)</a></h2>\n<pre>" + HtmlEscape(log) + "</pre>\n";
  return app::Layout("Build #" + id, body);
}

}  // namespace pipy::builder
