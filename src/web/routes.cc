#include "web/routes.h"

#include <chrono>
#include <functional>
#include <memory>
#include <utility>

#include "app/page_layout.h"
#include "core/pep503.h"
#include "http/conditional.h"
#include "index/page_cache.h"
#include "python/attributes.h"
#include "python/python_format.h"
#include "web/pages.h"
#include "web/request_parsing.h"

namespace pipy::web {
namespace {

constexpr std::string_view kHtml = "text/html; charset=utf-8";
// A page whose README could not be rendered for a passing reason is rebuilt after this.
constexpr std::chrono::milliseconds kRetryRenderAfter{10'000};

http::Response HtmlResponse(int status, std::string body) {
  http::Response r = http::TextResponse(status, std::move(body), std::string(kHtml));
  // Pages change with every upload; browsers revalidate with the ETag (cheap 304s).
  r.SetHeader("Cache-Control", "no-cache");
  return r;
}

// The error through the one Status-to-HTTP table (so 401 keeps its WWW-Authenticate and
// the reason phrase its message), with an HTML body.
http::Response ErrorPage(const Status& status) {
  http::Response r = http::ErrorResponse(status);
  r.body = RenderErrorPage(r.status, status.message());
  r.SetHeader("Content-Type", std::string(kHtml));
  return r;
}

http::Response CachedPageResponse(std::string_view if_none_match,
                                  const index::CachedPage& page) {
  http::Response r;
  r.SetHeader("ETag", page.etag);
  r.SetHeader("Cache-Control", "no-cache");
  if (http::IfNoneMatchMatches(if_none_match, page.etag)) {
    r.status = 304;
    return r;
  }
  r.status = 200;
  r.SetHeader("Content-Type", page.content_type);
  r.body = page.body;
  return r;
}

// Answers from the page cache on the I/O thread when the page is there; otherwise hands
// the build (catalog reads, maybe a README render in a child process) to the blocking
// pool, where concurrent requests for the same page wait for one build.
http::Response CachedOrBuilt(const http::Request& request, index::Index& index,
                             std::string project, std::string key,
                             std::function<Result<index::CachedPage>()> build) {
  std::string if_none_match(request.header("if-none-match").value_or(""));
  if (auto page = index.FindPage(project, key)) {
    return CachedPageResponse(if_none_match, *page);
  }
  http::Response deferred;
  deferred.continue_blocking = [&index, project = std::move(project), key = std::move(key),
                                build = std::move(build),
                                if_none_match = std::move(if_none_match)]() -> http::Response {
    auto page = index.GetOrBuildPage(project, key, build);
    if (!page) {
      return ErrorPage(page.error());
    }
    return CachedPageResponse(if_none_match, *page);
  };
  return deferred;
}

index::CachedPage MakePage(std::string html) {
  index::CachedPage page;
  page.etag = index::MakeEtag(html);
  page.content_type = std::string(kHtml);
  page.body = std::make_shared<const std::string>(std::move(html));
  return page;
}

http::Response Redirect(std::string location) {
  http::Response r;
  r.status = 301;  // permanent, as DESIGN.md asks of non-normalized names
  r.SetHeader("Location", std::move(location));
  r.body = std::string();
  return r;
}

http::Response HandleRoot(const http::Request& request, index::Index& index) {
  std::string query = QueryParam(request.query, "q");
  if (!query.empty()) {
    // A filtered list is cheap to render and rarely repeated: not cached.
    auto projects = index.ListProjects(python::PythonFormat());
    if (!projects) {
      return ErrorPage(projects.error());
    }
    return HtmlResponse(200, RenderRootPage(*projects, query));
  }
  return CachedOrBuilt(request, index, std::string(index::PageCache::kRoot), "web|root",
                       [&index]() -> Result<index::CachedPage> {
                         PIPY_ASSIGN_OR_RETURN(std::vector<catalog::ProjectRecord> projects,
                                               index.ListProjects(python::PythonFormat()));
                         return MakePage(RenderRootPage(projects, ""));
                       });
}

// The project page, with its README rendered by `readme` (at most once per content).
Result<index::CachedPage> BuildProjectPage(index::Index& index, ReadmeRenderer& readme,
                                           const std::string& normalized) {
  PIPY_ASSIGN_OR_RETURN(std::shared_ptr<const index::ProjectView> view,
                        index.GetProject(python::PythonFormat(), normalized));
  RenderedReadme rendered;
  if (const catalog::ReleaseRecord* current = ReadmeRelease(*view); current != nullptr) {
    rendered = readme.Render(current->metadata.description,
                             python::DescriptionContentType(current->metadata));
  }
  index::CachedPage page = MakePage(RenderProjectPage(*view, rendered.html));
  if (!rendered.lasting) {
    // The README was not rendered for a passing reason (busy): try again soon.
    auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::system_clock::now().time_since_epoch());
    page.expires_ms = now.count() + kRetryRenderAfter.count();
  }
  return page;
}

http::Response HandleProject(const http::Request& request, index::Index& index,
                             const std::shared_ptr<ReadmeRenderer>& readme, bool has_slash) {
  std::string name(request.param("name"));
  if (!pep503::IsValidName(name)) {
    return ErrorPage(NotFound("no project named " + name));
  }
  std::string normalized = pep503::NormalizeName(name);
  if (!has_slash || normalized != name) {
    return Redirect("/project/" + app::EncodePathSegment(normalized) + "/");
  }
  std::string key = "web|project|" + normalized;
  return CachedOrBuilt(request, index, normalized, std::move(key),
                       [&index, readme, normalized]() -> Result<index::CachedPage> {
                         return BuildProjectPage(index, *readme, normalized);
                       });
}

std::string BaseUrl(const http::Request& request, const WebOptions& options) {
  std::string base = options.public_base_hint;
  if (base.empty()) {
    base = "http://" + std::string(request.header("host").value_or("localhost"));
  }
  while (!base.empty() && base.back() == '/') {
    base.pop_back();
  }
  return base;
}

http::RouteOptions Named(std::string name) {
  http::RouteOptions options;
  options.name = std::move(name);
  return options;
}

}  // namespace

void RegisterRoutes(http::Router& router, index::Index& index, const app::Access& access,
                    WebOptions options) {
  // Wraps a handler with the read-access check every UI route starts with.
  auto readable = [&access](auto handler) {
    return [&access, handler = std::move(handler)](http::Request& request) -> http::Response {
      if (auto who = access.ForRead(request); !who) {
        return ErrorPage(who.error());
      }
      return handler(request);
    };
  };
  router.Add("GET", "/", Named("web_root"),
             readable([&index](const http::Request& r) { return HandleRoot(r, index); }));
  std::shared_ptr<ReadmeRenderer> readme =
      options.readme ? options.readme : std::make_shared<ReadmeRenderer>();
  router.Add("GET", "/project/{name}/", Named("web_project"),
             readable([&index, readme](const http::Request& r) {
               return HandleProject(r, index, readme, true);
             }));
  router.Add("GET", "/project/{name}", Named("web_project"),
             readable([&index, readme](const http::Request& r) {
               return HandleProject(r, index, readme, false);
             }));
  router.Add("GET", "/help", Named("web_help"),
             readable([options = std::move(options)](const http::Request& r) {
               return HtmlResponse(200, RenderHelpPage(BaseUrl(r, options)));
             }));
}

}  // namespace pipy::web
