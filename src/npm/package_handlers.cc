// Reading packages: packuments (full and abbreviated), single versions and tarballs,
// served from the index's page cache (rendered once per change of the package), and the
// dist-tags API.
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "app/blob_response.h"
#include "app/body_reader.h"
#include "app/page_body.h"
#include "core/npm_name.h"
#include "core/semver.h"
#include "http/conditional.h"
#include "npm/handlers.h"
#include "npm/negotiate.h"
#include "npm/npm_format.h"
#include "npm/paths.h"

namespace pipy::npm {
namespace {

namespace json = boost::json;

constexpr std::string_view kImmutable = "public, max-age=31536000, immutable";
// Distinct registry URLs (Hosts) whose documents are cached; others are rendered per
// request.
constexpr std::size_t kMaxCachedHosts = 16;

bool IsHostChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == '.' || c == '-' || c == ':' || c == '[' || c == ']' || c == '_';
}

index::CachedPage MakePage(std::string body) {
  index::CachedPage page;
  page.etag = index::MakeEtag(body);
  page.content_type = "application/json";
  page.body = std::make_shared<const std::string>(std::move(body));
  return page;
}

// `if_none_match`: the request's header (copied: the upstream's answer is sent later).
http::Response PageResponse(const Context& ctx, const index::CachedPage& page,
                            const std::optional<std::string>& if_none_match,
                            std::string_view content_type) {
  http::Response response;
  if (if_none_match && http::IfNoneMatchMatches(*if_none_match, page.etag)) {
    response.status = 304;
  } else {
    response.status = 200;
    app::SetPageBody(response, page);
    response.SetHeader("Content-Type", std::string(content_type));
  }
  response.SetHeader("Vary", "Accept");
  response.SetHeader("ETag", page.etag);
  response.SetHeader("Cache-Control", std::string(ctx.access.PageCacheControl()));
  return response;
}

// The page `kind` ("full", "abbreviated", "v:<version>") of the package, internal or (with
// `upstream`) the upstream's, from the cache when this registry URL is one of the cached
// ones.
Result<index::CachedPage> GetPage(Context& ctx, const std::string& name,
                                  const std::string& registry_url, const std::string& kind,
                                  bool upstream) {
  auto build = [&]() -> Result<index::CachedPage> {
    if (upstream) {
      return ctx.options.unknown_packages->Document(name, kind, registry_url);
    }
    PIPY_ASSIGN_OR_RETURN(PackumentInput input, LoadPackage(ctx, name, registry_url));
    if (kind == "full") {
      return MakePage(RenderFull(input));
    }
    if (kind == "abbreviated") {
      return MakePage(RenderAbbreviated(input));
    }
    const PackumentVersion* version = FindVersion(input, kind.substr(2));
    if (version == nullptr) {
      return NotFound("package '" + name + "' has no version or tag '" + kind.substr(2) + "'");
    }
    return MakePage(RenderVersion(input, *version));
  };
  bool cached = false;
  {
    std::lock_guard lock(ctx.hosts_mu);
    cached = ctx.cached_hosts.contains(registry_url);
    if (!cached && ctx.cached_hosts.size() < kMaxCachedHosts) {
      ctx.cached_hosts.insert(registry_url);
      cached = true;
    }
  }
  if (!cached) {
    return build();
  }
  std::string key = upstream ? "npm-upstream" : "npm";
  key.append(1, '\0').append(name).append(1, '\0').append(kind).append(1, '\0').append(
      registry_url);
  return ctx.index.GetOrBuildPage(name, key, build);
}

// True when the package is not internal (never published here, not even unpublished)
// and an upstream may have it: only then is the upstream asked.
Result<bool> GoesUpstream(Context& ctx, const std::string& name) {
  if (ctx.options.unknown_packages == nullptr) {
    return false;
  }
  PIPY_ASSIGN_OR_RETURN(bool internal, ctx.index.HasProject(NpmFormat(), name));
  return !internal;
}

http::Response TarballResponse(TarballSource source) {
  Result<http::Response> body = app::BlobResponse(std::move(source.stored));
  if (!body) {
    return NpmError(body.error());
  }
  http::Response response = std::move(*body);
  response.SetHeader("Content-Type", "application/octet-stream");
  response.SetHeader("ETag", source.etag);
  response.SetHeader("Cache-Control", std::string(kImmutable));
  return response;
}

http::Response ServeTarball(Context& ctx, const http::Request& request, const NpmPath& path) {
  Result<catalog::FileRecord> file = ctx.index.FindFile(NpmFormat(), path.name, path.file);
  if (!file && file.error().code() == StatusCode::kNotFound) {
    Result<bool> upstream = GoesUpstream(ctx, path.name);
    if (!upstream) {
      return NpmError(upstream.error());
    }
    if (*upstream) {
      // A fetch (or a store read) that may wait on the network: off the I/O thread.
      http::Response handoff;
      handoff.continue_blocking = [&ctx, path]() {
        Result<TarballSource> source = ctx.options.unknown_packages->Tarball(path.name, path.file);
        if (!source) {
          http::Response error = NpmError(source.error());
          if (source.error().code() == StatusCode::kUnavailable) {
            error.SetHeader("Retry-After", "1");
          }
          return error;
        }
        return TarballResponse(std::move(*source));
      };
      return handoff;
    }
  }
  if (!file) {
    return NpmError(file.error().code() == StatusCode::kNotFound
                        ? NotFound("no tarball '" + path.file + "' in package '" + path.name +
                                   "'")
                        : file.error());
  }
  std::string etag = "\"" + file->sha256 + "\"";
  http::Response response;
  if (http::IfNoneMatchMatches(request.header("if-none-match"), etag)) {
    response.status = 304;
  } else if (std::optional<std::string> url = ctx.index.DirectUrl(file->sha256)) {
    response.status = 302;
    response.SetHeader("Location", *url);
    response.SetHeader("Cache-Control", "private, max-age=60");
    return response;
  } else {
    Result<index::Index::BlobContent> content = ctx.index.ReadBlobForServing(file->sha256);
    if (!content) {
      return NpmError(content.error());
    }
    Result<http::Response> body = app::BlobResponse(std::move(*content));
    if (!body) {
      return NpmError(body.error());
    }
    response = std::move(*body);
    response.SetHeader("Content-Type", "application/octet-stream");
  }
  response.SetHeader("ETag", etag);
  response.SetHeader("Cache-Control", std::string(kImmutable));
  return response;
}

// `rest` after /npm/-/package/: "<name>/dist-tags" or "<name>/dist-tags/<tag>".
struct TagPath {
  std::string name;
  std::string tag;  // "" for the list
};

Result<TagPath> ParseTagPath(std::string_view rest) {
  std::size_t at = rest.rfind("/dist-tags");
  if (at == std::string_view::npos || at == 0) {
    return NotFound("no such dist-tags resource");
  }
  TagPath out{std::string(rest.substr(0, at)), ""};
  std::string_view after = rest.substr(at + 10);
  if (!after.empty()) {
    if (after.front() != '/' || after.size() < 2 || after.find('/', 1) != after.npos) {
      return NotFound("no such dist-tags resource");
    }
    out.tag = std::string(after.substr(1));
  }
  return out;
}

}  // namespace

http::Response NpmError(const Status& status) {
  http::Response response = http::ErrorResponse(status);
  json::object body{{"error", http::RedactServerPaths(status.message(), response.status)}};
  response.body = json::serialize(body);
  response.SetHeader("Content-Type", "application/json");
  return response;
}

http::Response JsonResponse(int status, std::string body) {
  return http::TextResponse(status, std::move(body), "application/json");
}

Result<std::string> RegistryUrl(Context& ctx, const http::Request& request) {
  if (!ctx.options.public_url.empty()) {
    return ctx.options.public_url + "npm/";
  }
  std::string_view host = request.header("host").value_or("");
  if (host.empty() || host.size() > 255) {
    return InvalidArgument("the request has no usable Host header");
  }
  for (char c : host) {
    if (!IsHostChar(c)) {
      return InvalidArgument("the request's Host header is not a host name");
    }
  }
  return std::string(request.scheme()) + "://" + std::string(host) + "/npm/";
}

Result<PackumentInput> LoadPackage(Context& ctx, const std::string& name,
                                   const std::string& registry_url) {
  PIPY_ASSIGN_OR_RETURN(auto view, ctx.index.GetProject(NpmFormat(), name));
  PIPY_ASSIGN_OR_RETURN(auto tags, ctx.index.ListTags(NpmFormat(), name));
  PackumentInput input;
  input.name = name;
  input.registry_url = registry_url;
  input.tags = std::move(tags);
  for (const catalog::ReleaseRecord& release : view->releases) {
    const catalog::FileRecord* tarball = nullptr;
    for (const catalog::FileRecord& f : view->files) {
      if (f.version_key == release.version_key) {
        tarball = &f;
        break;
      }
    }
    if (tarball == nullptr) {
      continue;  // its tarball was taken down
    }
    PackumentVersion version{release, *tarball, {}};
    if (!release.metadata.manifest_sha256.empty()) {
      PIPY_ASSIGN_OR_RETURN(std::string text,
                            ctx.index.ReadBlob(release.metadata.manifest_sha256,
                                               kMaxManifestBytes));
      json::error_code ec;
      json::value parsed = json::parse(text, ec);
      if (!ec && parsed.is_object()) {
        version.manifest = std::move(parsed.as_object());
      }
    }
    input.versions.push_back(std::move(version));
  }
  if (input.versions.empty()) {
    return NotFound("no package named '" + name + "'");
  }
  return input;
}

http::Response HandleGet(Context& ctx, const http::Request& request) {
  Result<auth::Principal> who = ctx.access.ForRead(request);
  if (!who) {
    return NpmError(who.error());
  }
  Result<NpmPath> path = ParseNpmPath(request.param("path"));
  if (!path) {
    return NpmError(path.error());
  }
  if (!npm_name::ValidateExisting(path->name).ok()) {
    return NpmError(NotFound("no package named '" + path->name.substr(0, 220) + "'"));
  }
  if (path->kind == NpmPath::Kind::kTarball) {
    return ServeTarball(ctx, request, *path);
  }
  if (path->kind != NpmPath::Kind::kPackument && path->kind != NpmPath::Kind::kVersion) {
    return NpmError(NotFound("no such npm resource"));
  }
  Result<std::string> registry_url = RegistryUrl(ctx, request);
  if (!registry_url) {
    return NpmError(registry_url.error());
  }
  const bool abbreviated = WantsAbbreviated(request.header("accept"));
  std::string kind = path->kind == NpmPath::Kind::kVersion ? "v:" + path->version
                     : abbreviated                          ? "abbreviated"
                                                            : "full";
  const std::string content_type = abbreviated && path->kind == NpmPath::Kind::kPackument
                                       ? "application/vnd.npm.install-v1+json"
                                       : "application/json";
  std::optional<std::string> if_none_match;
  if (auto header = request.header("if-none-match")) {
    if_none_match = std::string(*header);
  }
  Result<index::CachedPage> page = GetPage(ctx, path->name, *registry_url, kind, false);
  if (!page && page.error().code() == StatusCode::kNotFound) {
    Result<bool> upstream = GoesUpstream(ctx, path->name);
    if (!upstream) {
      return NpmError(upstream.error());
    }
    if (*upstream) {
      // The upstream's document, fetched (once per ttl) off the I/O thread.
      http::Response handoff;
      handoff.continue_blocking = [&ctx, if_none_match, name = path->name,
                                   registry = *registry_url, kind, content_type]() {
        Result<index::CachedPage> up = GetPage(ctx, name, registry, kind, true);
        if (!up) {
          return NpmError(up.error());
        }
        return PageResponse(ctx, *up, if_none_match, content_type);
      };
      return handoff;
    }
  }
  if (!page) {
    return NpmError(page.error());
  }
  return PageResponse(ctx, *page, if_none_match, content_type);
}

http::Response HandleDistTags(Context& ctx, const http::Request& request) {
  Result<TagPath> path = ParseTagPath(request.param("path"));
  if (!path) {
    return NpmError(path.error());
  }
  if (request.method == "GET" || request.method == "HEAD") {
    Result<auth::Principal> who = ctx.access.ForRead(request);
    if (!who) {
      return NpmError(who.error());
    }
    if (!npm_name::ValidateExisting(path->name).ok()) {
      return NpmError(NotFound("no package named '" + path->name.substr(0, 220) + "'"));
    }
    // A package whose every version was unpublished is unknown, as its packument is.
    auto view = ctx.index.GetProject(NpmFormat(), path->name);
    if (!view || (*view)->files.empty()) {
      return NpmError(!view && view.error().code() != StatusCode::kNotFound
                          ? view.error()
                          : NotFound("no package named '" + path->name + "'"));
    }
    auto tags = ctx.index.ListTags(NpmFormat(), path->name);
    if (!tags) {
      return NpmError(tags.error());
    }
    json::object body;
    for (const auto& [tag, version] : *tags) {
      body[tag] = version;
    }
    return JsonResponse(200, json::serialize(body));
  }
  Result<auth::Principal> who = ctx.access.ForWrite(request);
  if (!who) {
    return NpmError(who.error());
  }
  Status tag_ok = ValidateTagName(path->tag);
  if (!tag_ok.ok()) {
    return NpmError(tag_ok);
  }
  if (request.method == "DELETE") {
    if (path->tag == "latest") {
      // What `npm install <name>` resolves; npm's registry refuses to remove it too.
      return NpmError(InvalidArgument("the latest tag cannot be removed; move it instead"));
    }
    Status removed = ctx.index.RemoveTag(*who, NpmFormat(), path->name, path->tag);
    return removed.ok() ? JsonResponse(200, "{\"ok\":true}") : NpmError(removed);
  }
  // PUT: the body is the version as a JSON string.
  Result<std::string> text = app::ReadSmallBody(request.body, 4096);
  if (!text) {
    return NpmError(text.error());
  }
  json::error_code ec;
  json::value version = json::parse(*text, ec);
  if (ec || !version.is_string()) {
    return NpmError(InvalidArgument("the body must be the version as a JSON string"));
  }
  Status set = ctx.index.SetTag(*who, NpmFormat(), path->name, path->tag,
                                std::string(version.as_string()));
  return set.ok() ? JsonResponse(201, "{\"ok\":true}") : NpmError(set);
}

}  // namespace pipy::npm
