#include "web/routes.h"

#include <memory>
#include <utility>

#include "core/names.h"
#include "http/conditional.h"
#include "index/page_cache.h"
#include "web/html.h"
#include "web/pages.h"
#include "web/request_parsing.h"

namespace pipy::web {
namespace {

constexpr std::string_view kHtml = "text/html; charset=utf-8";

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

http::Response CachedPageResponse(const http::Request& request, const index::CachedPage& page) {
  http::Response r;
  r.SetHeader("ETag", page.etag);
  r.SetHeader("Cache-Control", "no-cache");
  if (http::IfNoneMatchMatches(request.header("if-none-match"), page.etag)) {
    r.status = 304;
    return r;
  }
  r.status = 200;
  r.SetHeader("Content-Type", page.content_type);
  r.body = page.body;
  return r;
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
    auto projects = index.ListProjects();
    if (!projects) {
      return ErrorPage(projects.error());
    }
    return HtmlResponse(200, RenderRootPage(*projects, query));
  }
  index.Revalidate();
  auto page = index.pages().GetOrBuild(
      index::PageCache::kRoot, "web|root", [&index]() -> Result<index::CachedPage> {
        PIPY_ASSIGN_OR_RETURN(std::vector<catalog::ProjectRecord> projects, index.ListProjects());
        return MakePage(RenderRootPage(projects, ""));
      });
  if (!page) {
    return ErrorPage(page.error());
  }
  return CachedPageResponse(request, *page);
}

http::Response HandleProject(const http::Request& request, index::Index& index,
                             bool has_slash) {
  std::string name(request.param("name"));
  if (!IsValidName(name)) {
    return ErrorPage(NotFound("no project named " + name));
  }
  std::string normalized = NormalizeName(name);
  if (!has_slash || normalized != name) {
    return Redirect("/project/" + EncodePathSegment(normalized) + "/");
  }
  index.Revalidate();
  auto page = index.pages().GetOrBuild(
      normalized, "web|project|" + normalized, [&]() -> Result<index::CachedPage> {
        PIPY_ASSIGN_OR_RETURN(std::shared_ptr<const index::ProjectView> view,
                              index.GetProject(normalized));
        return MakePage(RenderProjectPage(*view));
      });
  if (!page) {
    return ErrorPage(page.error());
  }
  return CachedPageResponse(request, *page);
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
  router.Add("GET", "/project/{name}/", Named("web_project"),
             readable([&index](const http::Request& r) { return HandleProject(r, index, true); }));
  router.Add("GET", "/project/{name}", Named("web_project"),
             readable([&index](const http::Request& r) { return HandleProject(r, index, false); }));
  router.Add("GET", "/help", Named("web_help"),
             readable([options = std::move(options)](const http::Request& r) {
               return HtmlResponse(200, RenderHelpPage(BaseUrl(r, options)));
             }));
}

}  // namespace pipy::web
