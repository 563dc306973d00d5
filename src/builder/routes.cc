#include "builder/routes.h"

#include <time.h>

#include <boost/json.hpp>
#include <charconv>
#include <map>
#include <memory>
#include <vector>

#include "app/body_reader.h"
#include "app/static_assets.h"
#include "builder/pages.h"
#include "builder/webhook.h"

namespace pipy::builder {
namespace {

constexpr std::uint64_t kMaxHookBody = 8 * 1024 * 1024;
constexpr std::uint64_t kMaxLogRead = 64ull * 1024 * 1024;

boost::json::value Rfc3339(std::int64_t epoch_ms) {
  if (epoch_ms <= 0) {
    return nullptr;
  }
  time_t seconds = static_cast<time_t>(epoch_ms / 1000);
  struct tm tm;
  gmtime_r(&seconds, &tm);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(epoch_ms % 1000));
  return boost::json::string(buf);
}

boost::json::object JobJson(const catalog::BuildJob& job) {
  boost::json::object out;
  out["id"] = job.id;
  out["source"] = job.source;
  out["module"] = job.module;
  out["format"] = job.format;
  out["project"] = job.project;
  out["version"] = job.version;
  out["commit"] = job.commit;
  out["status"] = catalog::BuildStatusName(job.status);
  out["message"] = job.message;
  out["log_url"] = "/api/builds/" + std::to_string(job.id) + "/log";
  out["log_bytes"] = job.log_bytes;
  out["created_at"] = Rfc3339(job.created_ms);
  out["started_at"] = Rfc3339(job.started_ms);
  out["finished_at"] = Rfc3339(job.finished_ms);
  boost::json::array waits_for;
  for (std::int64_t id : job.waits_for) {
    waits_for.push_back(id);
  }
  out["waits_for"] = std::move(waits_for);
  out["blocked_by"] = job.blocked_by > 0 ? boost::json::value(job.blocked_by)
                                         : boost::json::value(nullptr);
  return out;
}

http::Response Json(int status, const boost::json::value& value) {
  return http::TextResponse(status, boost::json::serialize(value) + "\n", "application/json");
}

// Everything the webhook route needs besides the request.
struct HookContext {
  Builder* builder = nullptr;
  http::Guard admission;  // the allowlist (app::Access::AdmissionGuard)
  RecentDeliveries deliveries;
};

http::Response Hook(HookContext& hook, const http::Request& request) {
  // A second line behind the server's own admission check: the webhook carries no token
  // for Access::ForRead, but the allowlist applies to it all the same.
  if (std::optional<http::Response> refused = hook.admission(request)) {
    return std::move(*refused);
  }
  std::string_view name = request.param("source");
  Watcher* watcher = hook.builder == nullptr ? nullptr : hook.builder->FindWatcher(name);
  // An unknown source, one without a webhook_secret and a wrong signature get the same
  // answer, after the same work: which source names exist is nobody's business.
  const std::string secret = watcher == nullptr ? "" : watcher->source().webhook_secret;
  Result<std::string> body = app::ReadSmallBody(request.body, kMaxHookBody);
  if (!body) {
    return http::ErrorResponse(body.error());
  }
  std::optional<std::string_view> signature = request.header("X-Hub-Signature-256");
  if (watcher == nullptr || !signature || !VerifyHubSignature(secret, *body, *signature)) {
    return http::ErrorResponse(Unauthenticated("missing or wrong X-Hub-Signature-256"));
  }
  boost::json::object out;
  out["source"] = std::string(name);
  std::string delivery(request.header("X-GitHub-Delivery").value_or(""));
  if (!hook.deliveries.FirstTime(name, delivery, *body)) {
    out["fetch"] = false;
    out["reason"] = delivery.empty() ? "this delivery was already received"
                                     : "delivery " + delivery + " was already received";
    return Json(202, out);  // as for the first time: the sender has nothing to retry
  }
  std::optional<std::string> ref = PushedRef(*body);
  const std::string watched = "refs/heads/" + watcher->source().branch;
  if (ref && *ref != watched) {
    out["fetch"] = false;
    out["reason"] = "a push to " + *ref + ", not to " + watched;
    return Json(202, out);
  }
  watcher->Trigger();
  out["fetch"] = true;
  return Json(202, out);
}

std::int64_t QueryInt(std::string_view query, std::string_view key, std::int64_t fallback) {
  std::size_t at = 0;
  while (at <= query.size()) {
    std::size_t end = query.find('&', at);
    std::string_view pair = query.substr(at, end == std::string_view::npos ? query.npos : end - at);
    if (pair.starts_with(key) && pair.size() > key.size() && pair[key.size()] == '=') {
      std::string_view value = pair.substr(key.size() + 1);
      std::int64_t n = 0;
      auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (ec == std::errc() && ptr == value.data() + value.size()) {
        return n;
      }
      return fallback;
    }
    if (end == std::string_view::npos) {
      break;
    }
    at = end + 1;
  }
  return fallback;
}

Result<catalog::BuildJob> FindJob(catalog::BuildQueue& queue, std::string_view id_text) {
  std::int64_t id = 0;
  auto [ptr, ec] = std::from_chars(id_text.data(), id_text.data() + id_text.size(), id);
  if (ec != std::errc() || ptr != id_text.data() + id_text.size() || id <= 0) {
    return NotFound("no build \"" + std::string(id_text) + "\"");
  }
  PIPY_ASSIGN_OR_RETURN(std::optional<catalog::BuildJob> job, queue.Get(id));
  if (!job) {
    return NotFound("no build " + std::to_string(id));
  }
  return *job;
}

// The builds `job` waited for and the one that blocked it, for its page: one Get each (a
// handful; only the single-build page pays for them, never the list). An id that no longer
// resolves is left out (the page then shows the bare id).
Result<std::map<std::int64_t, catalog::BuildJob>> RelatedJobs(catalog::BuildQueue& queue,
                                                              const catalog::BuildJob& job) {
  std::vector<std::int64_t> ids = job.waits_for;
  if (job.blocked_by > 0) {
    ids.push_back(job.blocked_by);
  }
  std::map<std::int64_t, catalog::BuildJob> related;
  for (std::int64_t id : ids) {
    if (related.contains(id)) {
      continue;
    }
    PIPY_ASSIGN_OR_RETURN(std::optional<catalog::BuildJob> other, queue.Get(id));
    if (other) {
      related.emplace(id, std::move(*other));
    }
  }
  return related;
}

// A builds page, with the headers of every page of the UI.
http::Response HtmlPage(std::string html) {
  http::Response r = http::TextResponse(200, std::move(html), "text/html; charset=utf-8");
  app::SetPageSecurityHeaders(r);
  return r;
}

http::Response Rebuild(Builder* builder, const app::Access& access, const http::Request& request) {
  auto who = access.ForWrite(request);
  if (!who) {
    return http::ErrorResponse(who.error());
  }
  if (!who->IsAdmin()) {
    return http::ErrorResponse(PermissionDenied("a rebuild needs an admin token"));
  }
  if (builder == nullptr) {
    return http::ErrorResponse(NotFound("no [[sources]] are configured"));
  }
  Result<std::string> body = app::ReadSmallBody(request.body, 64 * 1024);
  if (!body) {
    return http::ErrorResponse(body.error());
  }
  boost::system::error_code ec;
  boost::json::value value = boost::json::parse(*body, ec);
  if (ec || !value.is_object()) {
    return http::ErrorResponse(InvalidArgument(
        "the body must be a JSON object {\"source\": ..., \"module\": ..., \"commit\": ..., "
        "\"format\": ...}"));
  }
  auto field = [&](std::string_view key) -> std::string {
    const boost::json::value* v = value.as_object().if_contains(key);
    return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
  };
  std::string source = field("source");
  std::string module = field("module");
  if (source.empty() || module.empty()) {
    return http::ErrorResponse(InvalidArgument("\"source\" and \"module\" are required"));
  }
  // Optional: a folder holding both a pyproject.toml and a package.json is two modules, and
  // the builder asks which one when it is not named.
  std::string format;
  if (const boost::json::value* v = value.as_object().if_contains("format")) {
    if (!v->is_string() || (v->as_string() != "python" && v->as_string() != "npm")) {
      return http::ErrorResponse(InvalidArgument("\"format\" must be \"python\" or \"npm\""));
    }
    format = std::string(v->as_string());
  }
  Result<catalog::BuildJob> job = builder->Rebuild(source, module, field("commit"), format);
  std::string target = source + " " + module;
  if (!field("commit").empty()) {
    target += " " + field("commit");
  }
  access.Audit(*who, index::AuditEvent{index::kAuditRebuild, format, "", std::move(target)},
               job.status());
  if (!job) {
    return http::ErrorResponse(job.error());
  }
  return Json(202, JobJson(*job));
}

}  // namespace

void RegisterRoutes(http::Router& router, catalog::BuildQueue& queue, Builder* builder,
                    const app::Access& access) {
  auto hook = std::make_shared<HookContext>();
  hook->builder = builder;
  hook->admission = access.AdmissionGuard();
  router.Add("POST", "/hooks/git/{source}",
             {.name = "git_hook", .max_body_bytes = kMaxHookBody, .blocking = true},
             [hook](http::Request& request) { return Hook(*hook, request); });

  router.Add("GET", "/api/builds", {.name = "api_builds"},
             [&queue, &access](http::Request& request) {
               auto who = access.ForRead(request);
               if (!who) {
                 return http::ErrorResponse(who.error());
               }
               int limit = static_cast<int>(
                   std::clamp<std::int64_t>(QueryInt(request.query, "limit", 100), 1, 1000));
               auto jobs = queue.List(QueryInt(request.query, "before", 0), limit);
               if (!jobs) {
                 return http::ErrorResponse(jobs.error());
               }
               boost::json::array out;
               for (const catalog::BuildJob& job : *jobs) {
                 out.push_back(JobJson(job));
               }
               return Json(200, out);
             });
  router.Add("POST", "/api/builds",
             {.name = "api_builds_rebuild", .guard = access.AdminGuard(), .blocking = true},
             [builder, &access](http::Request& request) {
               return Rebuild(builder, access, request);
             });
  router.Add("GET", "/api/builds/{id}", {.name = "api_build"},
             [&queue, &access](http::Request& request) {
               auto who = access.ForRead(request);
               if (!who) {
                 return http::ErrorResponse(who.error());
               }
               auto job = FindJob(queue, request.param("id"));
               if (!job) {
                 return http::ErrorResponse(job.error());
               }
               return Json(200, JobJson(*job));
             });
  router.Add("GET", "/api/builds/{id}/log", {.name = "api_build_log"},
             [&queue, &access](http::Request& request) {
               auto who = access.ForRead(request);
               if (!who) {
                 return http::ErrorResponse(who.error());
               }
               auto job = FindJob(queue, request.param("id"));
               if (!job) {
                 return http::ErrorResponse(job.error());
               }
               std::int64_t offset = std::max<std::int64_t>(0, QueryInt(request.query, "offset", 0));
               auto log = queue.ReadLog(job->id, static_cast<std::uint64_t>(offset), kMaxLogRead);
               if (!log) {
                 return http::ErrorResponse(log.error());
               }
               http::Response response = http::TextResponse(200, std::move(*log));
               response.SetHeader("X-Build-Status",
                                  std::string(catalog::BuildStatusName(job->status)));
               response.SetHeader("Cache-Control", "no-store");
               return response;
             });

  router.Add("GET", "/builds", {.name = "web_builds"}, [&queue, &access](http::Request& request) {
    auto who = access.ForRead(request);
    if (!who) {
      return http::ErrorResponse(who.error());
    }
    std::int64_t before = QueryInt(request.query, "before", 0);
    auto jobs = queue.List(before, kBuildsPerPage);
    if (!jobs) {
      return http::ErrorResponse(jobs.error());
    }
    return HtmlPage(RenderBuildsPage(*jobs, kBuildsPerPage));
  });
  router.Add("GET", "/builds/{id}", {.name = "web_build"},
             [&queue, &access](http::Request& request) {
               auto who = access.ForRead(request);
               if (!who) {
                 return http::ErrorResponse(who.error());
               }
               auto job = FindJob(queue, request.param("id"));
               if (!job) {
                 return http::ErrorResponse(job.error());
               }
               auto log = queue.ReadLog(job->id, 0, kMaxLogRead);
               if (!log) {
                 return http::ErrorResponse(log.error());
               }
               auto related = RelatedJobs(queue, *job);
               if (!related) {
                 return http::ErrorResponse(related.error());
               }
               return HtmlPage(RenderBuildPage(*job, *related, *log));
             });
}

}  // namespace pipy::builder
