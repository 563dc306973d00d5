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

std::string BuildHref(std::int64_t id) {
  return "/builds/" + std::to_string(id);
}

// "#12 source/module (format) status", linking to build `id`; the bare "#12" link when
// `related` does not hold it.
std::string BuildLink(std::int64_t id, const std::map<std::int64_t, catalog::BuildJob>& related) {
  std::string out = "<a href=\"" + BuildHref(id) + "\">#" + std::to_string(id) + "</a>";
  auto it = related.find(id);
  if (it == related.end()) {
    return out;
  }
  const catalog::BuildJob& other = it->second;
  out += " " + HtmlEscape(other.source) + "/" + HtmlEscape(other.module) +
         " <span class=\"muted\">(" + HtmlEscape(other.format) + ")</span> " +
         StatusBadge(other.status);
  return out;
}

}  // namespace

std::string RenderBuildsPage(const std::vector<catalog::BuildJob>& jobs, int page_size) {
  std::string body = "<h1>Builds</h1>\n";
  if (jobs.empty()) {
    body += "<p class=\"muted\">No builds yet.</p>\n";
    return app::Layout("Builds", body);
  }
  body += "<table><tr><th>Build</th><th>Status</th><th>Format</th><th>Module</th>"
          "<th>Project</th><th>Commit</th><th>Created</th><th>Finished</th><th>Log</th></tr>\n";
  for (const catalog::BuildJob& job : jobs) {
    const std::string id = std::to_string(job.id);
    body += "<tr><td><a href=\"/builds/" + id + "\">#" + id + "</a></td><td>";
    body += StatusBadge(job.status);
    if (!job.message.empty()) {
      body += "<br><span class=\"muted\">" + HtmlEscape(job.message) + "</span>";
    }
    if (job.blocked_by > 0) {
      const std::string blocker = std::to_string(job.blocked_by);
      body += "<br>blocked by <a href=\"" + BuildHref(job.blocked_by) + "\">#" + blocker + "</a>";
    }
    body += "</td><td>" + HtmlEscape(job.format) + "</td><td>" + HtmlEscape(job.source) + "/" +
            HtmlEscape(job.module);
    if (!job.waits_for.empty()) {
      // Only the count: the waited-for builds' modules and statuses are on the build's own
      // page, so the list costs one query whatever the dependency graph.
      const std::size_t n = job.waits_for.size();
      body += "<br><span class=\"muted\">waited for " + std::to_string(n) +
              (n == 1 ? " build" : " builds") + "</span>";
    }
    body += "</td><td>";
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

std::string RenderBuildPage(const catalog::BuildJob& job,
                            const std::map<std::int64_t, catalog::BuildJob>& related,
                            const std::string& log) {
  const std::string id = std::to_string(job.id);
  std::string body;
  if (!catalog::IsFinished(job.status)) {
    body += "<meta http-equiv=\"refresh\" content=\"2\">\n";
  }
  body += "<h1>Build #" + id + " " + StatusBadge(job.status) + "</h1>\n";
  // Why a build failed or was skipped is the first thing its reader looks for.
  const bool explained = (job.status == catalog::BuildStatus::kFailed ||
                          job.status == catalog::BuildStatus::kSkipped) &&
                         (!job.message.empty() || job.blocked_by > 0);
  if (explained) {
    body += "<div class=\"build-message\">";
    if (!job.message.empty()) {
      body += "<p>" + HtmlEscape(job.message) + "</p>";
    }
    if (job.blocked_by > 0) {
      body += "<p>Blocked by " + BuildLink(job.blocked_by, related) + "</p>";
    }
    body += "</div>\n";
  }
  body += "<table>";
  auto row = [&body](std::string_view name, const std::string& value_html) {
    body += "<tr><th>" + std::string(name) + "</th><td>" + value_html + "</td></tr>\n";
  };
  row("Source", HtmlEscape(job.source));
  row("Module", HtmlEscape(job.module));
  row("Format", HtmlEscape(job.format));
  row("Project", ProjectCell(job));
  row("Commit", "<span class=\"hash\">" + HtmlEscape(job.commit) + "</span>");
  if (!explained) {
    row("Message", HtmlEscape(job.message));
  }
  if (job.waits_for.empty()) {
    row("Waited for", "<span class=\"muted\">-</span>");
  } else {
    std::string waits = "<ul class=\"waits\">";
    for (std::int64_t other : job.waits_for) {
      waits += "<li>" + BuildLink(other, related) + "</li>";
    }
    row("Waited for", waits + "</ul>");
  }
  if (job.blocked_by > 0) {
    row("Blocked by", BuildLink(job.blocked_by, related));
  }
  row("Created", app::FormatUtc(job.created_ms));
  row("Started", app::FormatUtc(job.started_ms));
  row("Finished", app::FormatUtc(job.finished_ms));
  body += "</table>\n<h2>Log <a class=\"muted\" href=\"/api/builds/" + id +
          "/log\">(plain text)</a></h2>\n<pre>" + HtmlEscape(log) + "</pre>\n";
  return app::Layout("Build #" + id, body);
}

}  // namespace pipy::builder
