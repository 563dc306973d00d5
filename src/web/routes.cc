#include "web/routes.h"

#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <tuple>
#include <utility>

#include "app/page_body.h"
#include "app/page_layout.h"
#include "app/static_assets.h"
#include "core/npm_name.h"
#include "core/pep503.h"
#include "http/conditional.h"
#include "index/page_cache.h"
#include "npm/npm_format.h"
#include "python/attributes.h"
#include "python/python_format.h"
#include "web/pages.h"
#include "web/request_parsing.h"

namespace pipy::web {
namespace {

constexpr std::string_view kHtml = "text/html; charset=utf-8";
// A page whose README could not be rendered for a passing reason is rebuilt after this.
constexpr std::chrono::milliseconds kRetryRenderAfter{10'000};
// npm package pages name the registry URL, which comes from the request's Host when no
// public URL is configured: pages are cached for this many distinct URLs, and rendered per
// request for any other (so made-up Host headers cannot fill the cache).
constexpr std::size_t kMaxCachedRegistryUrls = 16;
// npm READMEs are Markdown (what the npm registry's site renders them as).
constexpr std::string_view kNpmReadmeType = "text/markdown";

// The registry URLs whose npm package pages are cached (see kMaxCachedRegistryUrls).
struct RegistryUrls {
  std::mutex mu;
  std::set<std::string> cached;

  // True when pages for `url` are cached (it is one of the first few seen).
  bool Cacheable(const std::string& url) {
    std::lock_guard lock(mu);
    if (cached.contains(url)) {
      return true;
    }
    if (cached.size() >= kMaxCachedRegistryUrls) {
      return false;
    }
    cached.insert(url);
    return true;
  }
};

http::Response HtmlResponse(int status, std::string body) {
  http::Response r = http::TextResponse(status, std::move(body), std::string(kHtml));
  // Pages change with every upload; browsers revalidate with the ETag (cheap 304s).
  r.SetHeader("Cache-Control", "no-cache");
  app::SetPageSecurityHeaders(r);
  return r;
}

// The UI's stylesheet and scripts: content-addressed paths, so cached for good.
http::Response StaticAssetResponse(const http::Request& request) {
  const app::StaticAsset* asset = app::FindStaticAsset(request.path);
  if (asset == nullptr) {
    return http::ErrorResponse(NotFound("no such file"));
  }
  http::Response r;
  r.SetHeader("ETag", asset->etag);
  r.SetHeader("Cache-Control", "public, max-age=31536000, immutable");
  if (http::IfNoneMatchMatches(request.header("if-none-match").value_or(""), asset->etag)) {
    r.status = 304;
    return r;
  }
  r.status = 200;
  r.SetHeader("Content-Type", asset->content_type);
  r.body = asset->body;
  return r;
}

// The error through the one Status-to-HTTP table (so 401 keeps its WWW-Authenticate and
// the reason phrase its message), with an HTML body.
http::Response ErrorPage(const Status& status) {
  http::Response r = http::ErrorResponse(status);
  r.body = RenderErrorPage(r.status, status.message());
  r.SetHeader("Content-Type", std::string(kHtml));
  app::SetPageSecurityHeaders(r);
  return r;
}

http::Response CachedPageResponse(std::string_view if_none_match,
                                  const index::CachedPage& page) {
  http::Response r;
  r.SetHeader("ETag", page.etag);
  r.SetHeader("Cache-Control", "no-cache");
  app::SetPageSecurityHeaders(r);  // every cached page is one of the UI's
  if (http::IfNoneMatchMatches(if_none_match, page.etag)) {
    r.status = 304;
    return r;
  }
  r.status = 200;
  r.SetHeader("Content-Type", page.content_type);
  app::SetPageBody(r, page);
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

// Every project of every format, by name (then format: one name may exist once per format).
// Catalog rows only: nothing per project is read.
Result<std::vector<catalog::ProjectRecord>> ListAllProjects(index::Index& index) {
  PIPY_ASSIGN_OR_RETURN(std::vector<catalog::ProjectRecord> projects,
                        index.ListProjects(python::PythonFormat()));
  PIPY_ASSIGN_OR_RETURN(std::vector<catalog::ProjectRecord> npm_packages,
                        index.ListProjects(npm::NpmFormat()));
  projects.insert(projects.end(), std::make_move_iterator(npm_packages.begin()),
                  std::make_move_iterator(npm_packages.end()));
  std::sort(projects.begin(), projects.end(),
            [](const catalog::ProjectRecord& a, const catalog::ProjectRecord& b) {
              return std::tie(a.name, a.format) < std::tie(b.name, b.format);
            });
  return projects;
}

http::Response HandleRoot(const http::Request& request, index::Index& index) {
  std::string query = QueryParam(request.query, "q");
  if (!query.empty()) {
    // A filtered list is cheap to render and rarely repeated: not cached.
    auto projects = ListAllProjects(index);
    if (!projects) {
      return ErrorPage(projects.error());
    }
    return HtmlResponse(200, RenderRootPage(*projects, query));
  }
  return CachedOrBuilt(request, index, std::string(index::PageCache::kRoot), "web|root",
                       [&index]() -> Result<index::CachedPage> {
                         PIPY_ASSIGN_OR_RETURN(std::vector<catalog::ProjectRecord> projects,
                                               ListAllProjects(index));
                         return MakePage(RenderRootPage(projects, ""));
                       });
}

// A page with a README in it: rebuilt soon when the README was not rendered for a passing
// reason (every render slot busy).
index::CachedPage PageWithReadme(std::string html, const RenderedReadme& rendered) {
  index::CachedPage page = MakePage(std::move(html));
  if (!rendered.lasting) {
    auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::system_clock::now().time_since_epoch());
    page.expires_ms = now.count() + kRetryRenderAfter.count();
  }
  return page;
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
  return PageWithReadme(RenderProjectPage(*view, rendered.html), rendered);
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
    base = std::string(request.scheme()) + "://" +
           std::string(request.header("host").value_or("localhost"));
  }
  while (!base.empty() && base.back() == '/') {
    base.pop_back();
  }
  return base;
}

// The npm package page, its README rendered by `readme` (at most once per content).
Result<index::CachedPage> BuildNpmPackagePage(index::Index& index, ReadmeRenderer& readme,
                                              const std::string& name,
                                              const std::string& registry_url) {
  PIPY_ASSIGN_OR_RETURN(std::shared_ptr<const index::ProjectView> view,
                        index.GetProject(npm::NpmFormat(), name));
  PIPY_ASSIGN_OR_RETURN(auto tags, index.ListTags(npm::NpmFormat(), name));
  RenderedReadme rendered;
  if (const catalog::ReleaseRecord* current = NpmReadmeRelease(*view, tags);
      current != nullptr && !IsNpmReadmePlaceholder(current->metadata.description)) {
    rendered = readme.Render(current->metadata.description, kNpmReadmeType);
  }
  return PageWithReadme(RenderNpmPackagePage(*view, tags, registry_url, rendered.html),
                        rendered);
}

// GET /npm-package/<name>: `name` is "log" or "@acme/log" (the path's rest, decoded, so
// "@acme%2flog" works too).
http::Response HandleNpmPackage(const http::Request& request, index::Index& index,
                                const std::shared_ptr<ReadmeRenderer>& readme,
                                const WebOptions& options,
                                const std::shared_ptr<RegistryUrls>& registry_urls) {
  std::string name(request.param("name"));
  if (name.size() > 1 && name.back() == '/') {
    name.pop_back();
    if (npm_name::Validate(name).ok()) {
      return Redirect(NpmPackagePath(name));
    }
  }
  if (!npm_name::Validate(name).ok()) {
    return ErrorPage(NotFound("no npm package named " + name.substr(0, 220)));
  }
  std::string registry_url = BaseUrl(request, options) + "/npm/";
  auto build = [&index, readme, name, registry_url]() -> Result<index::CachedPage> {
    return BuildNpmPackagePage(index, *readme, name, registry_url);
  };
  if (!registry_urls->Cacheable(registry_url)) {
    http::Response deferred;
    deferred.continue_blocking = [build = std::move(build),
                                  if_none_match = std::string(
                                      request.header("if-none-match").value_or(""))]() {
      Result<index::CachedPage> page = build();
      if (!page) {
        return ErrorPage(page.error());
      }
      return CachedPageResponse(if_none_match, *page);
    };
    return deferred;
  }
  std::string key = "web|npm|" + name;
  key.append(1, '\0').append(registry_url);
  return CachedOrBuilt(request, index, name, std::move(key), std::move(build));
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
  // Not under /project/: npm names may hold a '/' and may equal a Python project's name.
  auto shared_options = std::make_shared<const WebOptions>(std::move(options));
  auto registry_urls = std::make_shared<RegistryUrls>();
  router.Add("GET", "/npm-package/{name...}", Named("web_npm_package"),
             readable([&index, readme, shared_options, registry_urls](const http::Request& r) {
               return HandleNpmPackage(r, index, readme, *shared_options, registry_urls);
             }));
  // Not behind the read check: nothing in them is the repository's, and an error page
  // (a 401 included) links the stylesheet too.
  router.Add("GET", "/static/{name}", Named("web_static"),
             [](http::Request& r) { return StaticAssetResponse(r); });
  router.Add("GET", "/help", Named("web_help"),
             readable([shared_options](const http::Request& r) {
               return HtmlResponse(200, RenderHelpPage(BaseUrl(r, *shared_options)));
             }));
}

}  // namespace pipy::web
