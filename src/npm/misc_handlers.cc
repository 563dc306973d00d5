// The rest of the npm CLI's registry calls: ping, whoami, search, audit and login.
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <optional>
#include <set>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <boost/url/parse_query.hpp>
#include <spdlog/spdlog.h>

#include "app/body_reader.h"
#include "core/npm_name.h"
#include "core/strings.h"
#include "core/timestamp.h"
#include "npm/handlers.h"
#include "npm/npm_format.h"

namespace pipy::npm {
namespace {

namespace json = boost::json;

constexpr std::size_t kDefaultSearchSize = 20;
constexpr std::size_t kMaxSearchSize = 250;

std::int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct SearchQuery {
  std::vector<std::string> terms;  // lowercase; every one must match
  std::size_t size = kDefaultSearchSize;
  std::size_t from = 0;
};

std::size_t ParseCount(std::string_view text, std::size_t fallback, std::size_t max) {
  std::string s(text);
  char* end = nullptr;
  unsigned long long v = std::strtoull(s.c_str(), &end, 10);
  if (s.empty() || *end != '\0') {
    return fallback;
  }
  return static_cast<std::size_t>(std::min<unsigned long long>(v, max));
}

SearchQuery ParseSearchQuery(std::string_view query) {
  SearchQuery out;
  auto params = boost::urls::parse_query(query);
  if (!params) {
    return out;
  }
  for (auto param : *params) {
    if (param.key == "text") {
      std::string text = AsciiLower(param.value);
      std::size_t start = 0;
      while (start < text.size()) {
        std::size_t end = text.find(' ', start);
        std::string term = text.substr(start, end == text.npos ? text.npos : end - start);
        if (!term.empty()) {
          out.terms.push_back(std::move(term));
        }
        start = end == text.npos ? text.size() : end + 1;
      }
    } else if (param.key == "size") {
      out.size = ParseCount(param.value, kDefaultSearchSize, kMaxSearchSize);
    } else if (param.key == "from") {
      out.from = ParseCount(param.value, 0, 1'000'000);
    }
  }
  return out;
}

// One search hit: the package's latest version as `npm search` prints it.
struct Hit {
  std::string name;
  std::string version;
  std::string description;
  json::array keywords;
  std::int64_t date_ms = 0;
  std::string publisher;
  std::vector<std::string> maintainers;
};

Result<std::optional<Hit>> Describe(Context& ctx, const catalog::ProjectRecord& project) {
  PIPY_ASSIGN_OR_RETURN(auto view, ctx.index.GetProject(NpmFormat(), project.name));
  if (view->files.empty()) {
    return std::optional<Hit>();  // every version taken down
  }
  PIPY_ASSIGN_OR_RETURN(auto tags, ctx.index.ListTags(NpmFormat(), project.name));
  const catalog::ReleaseRecord* latest = nullptr;
  auto tagged = tags.find("latest");
  for (const catalog::ReleaseRecord& r : view->releases) {
    bool has_file = std::any_of(view->files.begin(), view->files.end(),
                                [&](const auto& f) { return f.version_key == r.version_key; });
    if (!has_file) {
      continue;
    }
    if (latest == nullptr || (tagged != tags.end() && r.version == tagged->second)) {
      latest = &r;
    }
  }
  Hit hit;
  hit.name = project.name;
  hit.version = latest->version;
  hit.description = latest->metadata.summary;
  std::set<std::string> maintainers;
  for (const catalog::FileRecord& f : view->files) {
    if (f.version_key == latest->version_key) {
      hit.date_ms = f.upload_time_ms;
      hit.publisher = f.uploader;
    }
    maintainers.insert(f.uploader);
  }
  hit.maintainers.assign(maintainers.begin(), maintainers.end());
  if (!latest->metadata.manifest_sha256.empty()) {
    PIPY_ASSIGN_OR_RETURN(std::string text,
                          ctx.index.ReadBlob(latest->metadata.manifest_sha256, kMaxManifestBytes));
    json::error_code ec;
    json::value manifest = json::parse(text, ec);
    if (!ec && manifest.is_object()) {
      if (const json::value* k = manifest.as_object().if_contains("keywords");
          k != nullptr && k->is_array()) {
        hit.keywords = k->as_array();
      }
    }
  }
  return std::optional<Hit>(std::move(hit));
}

bool Matches(const Hit& hit, const std::vector<std::string>& terms) {
  std::string haystack = hit.name + "\n" + AsciiLower(hit.description);
  for (const json::value& k : hit.keywords) {
    if (k.is_string()) {
      haystack += "\n" + AsciiLower(std::string(k.as_string()));
    }
  }
  return std::all_of(terms.begin(), terms.end(), [&](const std::string& term) {
    return haystack.find(term) != std::string::npos;
  });
}

json::object SearchObject(const Hit& hit) {
  npm_name::Parts parts = npm_name::Split(hit.name);
  json::array maintainers;
  for (const std::string& m : hit.maintainers) {
    maintainers.push_back(json::object{{"username", m}, {"email", ""}});
  }
  json::object package{
      {"name", hit.name},
      {"scope", parts.scope.empty() ? std::string("unscoped") : std::string(parts.scope)},
      {"version", hit.version},
      {"description", hit.description},
      {"keywords", hit.keywords},
      {"date", FormatUtcTimestamp(hit.date_ms, 3)},
      {"links", json::object{}},
      {"publisher", json::object{{"username", hit.publisher}, {"email", ""}}},
      {"maintainers", std::move(maintainers)}};
  return json::object{
      {"package", std::move(package)},
      {"score", json::object{{"final", 1.0},
                             {"detail", json::object{{"quality", 1.0},
                                                     {"popularity", 1.0},
                                                     {"maintenance", 1.0}}}}},
      {"searchScore", 1.0},
      {"flags", json::object{}}};
}

}  // namespace

http::Response HandlePing(Context& ctx, const http::Request& request) {
  Result<auth::Principal> who = ctx.access.ForRead(request);
  if (!who) {
    return NpmError(who.error());
  }
  return JsonResponse(200, "{}");
}

http::Response HandleWhoami(Context& ctx, const http::Request& request) {
  Result<auth::Principal> who = ctx.access.ForRead(request);
  if (!who) {
    return NpmError(who.error());
  }
  if (who->anonymous) {
    return NpmError(Unauthenticated("not logged in: whoami needs a token"));
  }
  return JsonResponse(200, json::serialize(json::object{{"username", who->token_name}}));
}

http::Response HandleSearch(Context& ctx, const http::Request& request) {
  Result<auth::Principal> who = ctx.access.ForRead(request);
  if (!who) {
    return NpmError(who.error());
  }
  SearchQuery query = ParseSearchQuery(request.query);
  auto projects = ctx.index.ListProjects(NpmFormat());
  if (!projects) {
    return NpmError(projects.error());
  }
  json::array objects;
  std::size_t total = 0;
  for (const catalog::ProjectRecord& project : *projects) {
    // Every term must be in the name, the description or a keyword. Each package costs
    // a few catalog reads: fine for the thousands of packages a company has, no index.
    Result<std::optional<Hit>> hit = Describe(ctx, project);
    if (!hit) {
      // One package that cannot be read (a backend hiccup, a damaged manifest) does not
      // fail everyone's search.
      spdlog::warn("npm search: skipping {}: {}", project.name, hit.error().ToString());
      continue;
    }
    if (!*hit || !Matches(**hit, query.terms)) {
      continue;
    }
    if (total >= query.from && objects.size() < query.size) {
      objects.push_back(SearchObject(**hit));
    }
    ++total;
  }
  json::object body{{"objects", std::move(objects)},
                    {"total", total},
                    {"time", FormatUtcTimestamp(NowMs(), 3)}};
  return JsonResponse(200, json::serialize(body));
}

http::Response HandleAudit(Context& ctx, const http::Request& request) {
  Result<auth::Principal> who = ctx.access.ForRead(request);
  if (!who) {
    return NpmError(who.error());
  }
  // Internal packages have no advisories. npm's bulk endpoint wants {} (no advisory for
  // any package); the older quick audit wants its report shape with zero counts.
  if (request.path.ends_with("/advisories/bulk")) {
    return JsonResponse(200, "{}");
  }
  return JsonResponse(
      200,
      "{\"actions\":[],\"advisories\":{},\"muted\":[],\"metadata\":{\"vulnerabilities\":"
      "{\"info\":0,\"low\":0,\"moderate\":0,\"high\":0,\"critical\":0},\"dependencies\":0,"
      "\"devDependencies\":0,\"optionalDependencies\":0,\"totalDependencies\":0}}");
}

http::Response HandleLogin(Context& ctx, const http::Request& request) {
  std::string_view user = request.param("user");
  constexpr std::string_view kPrefix = "org.couchdb.user:";
  if (!user.starts_with(kPrefix) || user.size() == kPrefix.size()) {
    return NpmError(NotFound("no such user resource"));
  }
  Result<std::string> text = app::ReadSmallBody(request.body, 64 * 1024);
  if (!text) {
    return NpmError(text.error());
  }
  json::error_code ec;
  json::value body = json::parse(*text, ec);
  if (ec || !body.is_object()) {
    return NpmError(InvalidArgument("the body must be a JSON object"));
  }
  const json::value* password = body.as_object().if_contains("password");
  std::string secret =
      password != nullptr && password->is_string() ? std::string(password->as_string()) : "";
  // The password is a Pipy token; login answers with it, so npm stores it as the
  // registry's _authToken. Any user name goes: the token is the identity.
  Result<auth::Principal> who = ctx.access.ForSecret(request, secret);
  if (!who) {
    // A refused address (403) and the failed-authentication limit (429, Retry-After) keep
    // their answers; any other failure is the wrong password.
    const StatusCode code = who.error().code();
    return NpmError(code == StatusCode::kPermissionDenied || code == StatusCode::kTooManyRequests
                        ? who.error()
                        : Unauthenticated("the password must be a valid Pipy token"));
  }
  json::object answer{{"ok", true},
                      {"id", std::string(user)},
                      {"rev", "_we_dont_use_revs_any_more"},
                      {"token", secret}};
  return JsonResponse(201, json::serialize(answer));
}

}  // namespace pipy::npm
