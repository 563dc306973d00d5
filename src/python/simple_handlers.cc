// The simple repository API endpoints (PEP 503 / 691): negotiate, then serve the page from
// the index's page cache, which renders it at most once per change of the project.
#include <string>

#include "app/page_body.h"
#include "core/pep503.h"
#include "http/conditional.h"
#include "index/page_cache.h"
#include "python/accept.h"
#include "python/handlers.h"
#include "python/python_format.h"
#include "python/simple_pages.h"

namespace pipy::python {
namespace {

// Pages change when a project does; a short max-age bounds staleness behind caches,
// and the ETag makes revalidation cheap.

http::Response PageResponse(const Context& ctx, const index::CachedPage& page,
                            const http::Request& request) {
  http::Response response;
  if (http::IfNoneMatchMatches(request.header("if-none-match"), page.etag)) {
    response.status = 304;
  } else {
    response.status = 200;
    app::SetPageBody(response, page);
    response.SetHeader("Content-Type", page.content_type);
  }
  response.SetHeader("Vary", "Accept");
  response.SetHeader("ETag", page.etag);
  response.SetHeader("Cache-Control", std::string(ctx.access.PageCacheControl()));
  return response;
}

http::Response NotAcceptable(const Status& status) {
  http::Response response = http::ErrorResponse(status);
  response.SetHeader("Vary", "Accept");
  return response;
}

index::CachedPage MakePage(std::string body, SimpleFormat format) {
  index::CachedPage page;
  page.etag = index::MakeEtag(body);
  page.content_type = std::string(ContentTypeFor(format));
  page.body = std::make_shared<const std::string>(std::move(body));
  return page;
}

std::string CacheKey(std::string_view project, SimpleFormat format) {
  std::string key(project);
  key += '|';
  key += FormatKey(format);
  return key;
}

// A permanent redirect to `path`, keeping the query.
http::Response RedirectTo(std::string location, const http::Request& request) {
  if (!request.query.empty()) {
    location += '?';
    location += request.query;
  }
  http::Response response = http::TextResponse(301, "Moved to " + location + "\n");
  response.SetHeader("Location", location);
  return response;
}

http::Response Redirect(const std::string& normalized, const http::Request& request) {
  return RedirectTo("/simple/" + normalized + "/", request);
}

}  // namespace

http::Response ServeRoot(Context& ctx, const http::Request& request) {
  Result<auth::Principal> who = ctx.access.ForRead(request);
  if (!who) {
    return http::ErrorResponse(who.error());
  }
  Result<SimpleFormat> format = NegotiateSimpleFormat(request.header("accept"));
  if (!format) {
    return NotAcceptable(format.error());
  }
  Result<index::CachedPage> page = ctx.index.GetOrBuildPage(
      index::PageCache::kRoot, CacheKey(index::PageCache::kRoot, *format),
      [&]() -> Result<index::CachedPage> {
        PIPY_ASSIGN_OR_RETURN(std::vector<catalog::ProjectRecord> projects,
                              ctx.index.ListProjects(PythonFormat()));
        return MakePage(RenderRoot(*format, projects), *format);
      });
  if (!page) {
    return http::ErrorResponse(page.error());
  }
  return PageResponse(ctx, *page, request);
}

http::Response ServeProject(Context& ctx, const http::Request& request) {
  Result<auth::Principal> who = ctx.access.ForRead(request);
  if (!who) {
    return http::ErrorResponse(who.error());
  }
  std::string_view name = request.param("name");
  if (!pep503::IsValidName(name)) {
    return http::ErrorResponse(NotFound("no project named \"" + std::string(name) + "\""));
  }
  std::string normalized = pep503::NormalizeName(name);
  if (normalized != name) {
    return Redirect(normalized, request);
  }
  Result<SimpleFormat> format = NegotiateSimpleFormat(request.header("accept"));
  if (!format) {
    return NotAcceptable(format.error());
  }
  const std::string key = CacheKey(normalized, *format);
  auto build = [&ctx, normalized, format = *format]() -> Result<index::CachedPage> {
    Result<std::shared_ptr<const index::ProjectView>> view = ctx.index.GetProject(PythonFormat(), normalized);
    // An internal project always wins: the fallback only sees unknown names, and its
    // pages share this cache, so creating the project drops them at once.
    if (!view && view.error().code() == StatusCode::kNotFound &&
        ctx.options.unknown_projects != nullptr) {
      return ctx.options.unknown_projects->ProjectPage(normalized, format);
    }
    if (!view) {
      return view.error();
    }
    return MakePage(RenderProject(format, **view), format);
  };
  if (ctx.options.unknown_projects != nullptr) {
    // Building may ask the upstream (a network wait): answer a cached page here, and
    // build anything else on the server's blocking pool.
    if (std::optional<index::CachedPage> cached = ctx.index.FindPage(normalized, key)) {
      return PageResponse(ctx, *cached, request);
    }
    http::Response deferred;
    std::string if_none_match(request.header("if-none-match").value_or(""));
    deferred.continue_blocking = [&ctx, normalized, key, build, if_none_match] {
      Result<index::CachedPage> page = ctx.index.GetOrBuildPage(normalized, key, build);
      if (!page) {
        return http::ErrorResponse(page.error());
      }
      http::Request conditional;
      if (!if_none_match.empty()) {
        conditional.headers.push_back({"If-None-Match", if_none_match});
      }
      return PageResponse(ctx, *page, conditional);
    };
    return deferred;
  }
  Result<index::CachedPage> page = ctx.index.GetOrBuildPage(normalized, key, build);
  if (!page) {
    return http::ErrorResponse(page.error());
  }
  return PageResponse(ctx, *page, request);
}

http::Response RedirectToRoot(Context& ctx, const http::Request& request) {
  Result<auth::Principal> who = ctx.access.ForRead(request);
  if (!who) {
    return http::ErrorResponse(who.error());
  }
  return RedirectTo("/simple/", request);
}

http::Response RedirectToProject(Context& ctx, const http::Request& request) {
  Result<auth::Principal> who = ctx.access.ForRead(request);
  if (!who) {
    return http::ErrorResponse(who.error());
  }
  std::string_view name = request.param("name");
  if (!pep503::IsValidName(name)) {
    return http::ErrorResponse(NotFound("no project named \"" + std::string(name) + "\""));
  }
  return Redirect(pep503::NormalizeName(name), request);
}

}  // namespace pipy::python
