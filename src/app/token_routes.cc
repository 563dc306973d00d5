#include "app/token_routes.h"

#include <boost/json.hpp>

#include "app/body_reader.h"
#include "auth/token_lifecycle.h"
#include "core/timestamp.h"

namespace pipy::app {

namespace {

constexpr std::uint64_t kMaxTokenBody = 16 * 1024;

boost::json::value TimeOrNull(std::int64_t ms) {
  if (ms == 0) {
    return nullptr;
  }
  return boost::json::string(FormatUtcTimestamp(ms, 3));
}

boost::json::array ScopesJson(const std::vector<std::string>& scopes) {
  boost::json::array out;
  for (const std::string& scope : scopes) {
    out.emplace_back(scope);
  }
  return out;
}

http::Response Json(int status, const boost::json::value& value) {
  http::Response response =
      http::TextResponse(status, boost::json::serialize(value) + "\n", "application/json");
  // A secret may be in it; listings change at any time.
  response.SetHeader("Cache-Control", "no-store");
  return response;
}

// What a listing shows of a token: never its hash.
boost::json::object TokenJson(const catalog::TokenRecord& token, std::int64_t now) {
  boost::json::object out;
  out["name"] = token.name;
  out["scopes"] = ScopesJson(token.scopes);
  out["created_at"] = TimeOrNull(token.created_ms);
  out["expires_at"] = TimeOrNull(token.expires_ms);
  out["last_used_at"] = TimeOrNull(token.last_used_ms);
  out["revoked"] = token.revoked;
  out["expired"] = token.expires_ms != 0 && now >= token.expires_ms;
  return out;
}

http::Response List(catalog::Catalog& catalog, std::int64_t now) {
  auto tokens = catalog.ListTokens();
  if (!tokens) {
    return http::ErrorResponse(tokens.error());
  }
  boost::json::array out;
  for (const catalog::TokenRecord& token : *tokens) {
    out.push_back(TokenJson(token, now));
  }
  return Json(200, out);
}

// The fields of a POST body; kInvalidArgument naming the first bad one.
struct CreateRequest {
  std::string name;
  std::vector<std::string> scopes;
  std::int64_t lifetime_ms = 0;  // 0: never expires
};

Result<CreateRequest> ParseCreate(std::string_view body) {
  boost::system::error_code ec;
  boost::json::value value = boost::json::parse(body, ec);
  if (ec || !value.is_object()) {
    return InvalidArgument(
        "the body must be a JSON object {\"name\": ..., \"scopes\": [...], \"expires\": ...}");
  }
  const boost::json::object& object = value.as_object();
  CreateRequest out;
  const boost::json::value* name = object.if_contains("name");
  if (name == nullptr || !name->is_string()) {
    return InvalidArgument("\"name\" must be a string");
  }
  out.name = std::string(name->as_string());
  const boost::json::value* scopes = object.if_contains("scopes");
  if (scopes == nullptr || !scopes->is_array()) {
    return InvalidArgument("\"scopes\" must be an array of strings");
  }
  for (const boost::json::value& scope : scopes->as_array()) {
    if (!scope.is_string()) {
      return InvalidArgument("\"scopes\" must be an array of strings");
    }
    out.scopes.emplace_back(scope.as_string());
  }
  if (const boost::json::value* expires = object.if_contains("expires");
      expires != nullptr && !expires->is_null()) {
    if (!expires->is_string()) {
      return InvalidArgument("\"expires\" must be a duration such as \"90d\", or null");
    }
    PIPY_ASSIGN_OR_RETURN(out.lifetime_ms, auth::ParseTokenLifetime(expires->as_string()));
  }
  return out;
}

// What the audit log names a token by: its name and scopes, never its secret.
std::string TokenTarget(const std::string& name, const std::vector<std::string>& scopes) {
  std::string out = name + " (";
  for (std::size_t i = 0; i < scopes.size(); ++i) {
    out += (i == 0 ? "" : " ") + scopes[i];
  }
  return out + ")";
}

http::Response Create(catalog::Catalog& catalog, const Access& access,
                      const http::Request& request, std::int64_t now) {
  // The guard let an admin through; this names them for the audit log.
  Result<auth::Principal> who = access.ForWrite(request);
  if (!who) {
    return http::ErrorResponse(who.error());
  }
  index::AuditEvent event{index::kAuditTokenCreate, "", "", ""};
  Result<std::string> body = ReadSmallBody(request.body, kMaxTokenBody);
  if (!body) {
    access.Audit(*who, event, body.error());
    return http::ErrorResponse(body.error());
  }
  Result<CreateRequest> parsed = ParseCreate(*body);
  if (!parsed) {
    access.Audit(*who, event, parsed.error());
    return http::ErrorResponse(parsed.error());
  }
  event.target = TokenTarget(parsed->name, parsed->scopes);
  auto issued = auth::IssueToken(catalog, std::move(parsed->name), std::move(parsed->scopes),
                                 parsed->lifetime_ms, now);
  access.Audit(*who, event, issued.status());
  if (!issued) {
    return http::ErrorResponse(issued.error());
  }
  boost::json::object out;
  out["name"] = issued->record.name;
  out["scopes"] = ScopesJson(issued->record.scopes);
  out["created_at"] = TimeOrNull(issued->record.created_ms);
  out["expires_at"] = TimeOrNull(issued->record.expires_ms);
  out["secret"] = issued->secret;
  return Json(201, out);
}

http::Response Revoke(catalog::Catalog& catalog, const Access& access,
                      const http::Request& request) {
  Result<auth::Principal> who = access.ForWrite(request);
  if (!who) {
    return http::ErrorResponse(who.error());
  }
  const std::string name(request.param("name"));
  Status revoked = catalog.RevokeToken(name);
  access.Audit(*who, index::AuditEvent{index::kAuditTokenRevoke, "", "", name}, revoked);
  if (!revoked.ok()) {
    return http::ErrorResponse(revoked);
  }
  boost::json::object out;
  out["name"] = name;
  out["revoked"] = true;
  return Json(200, out);
}

}  // namespace

void RegisterTokenRoutes(http::Router& router, catalog::Catalog& catalog, const Access& access,
                         auth::ClockMs now_ms) {
  if (!now_ms) {
    now_ms = auth::WallClockMs;
  }
  // Each route is a catalog round trip (a network one with PostgreSQL): blocking.
  router.Add("GET", "/api/tokens",
             {.name = "api_tokens", .guard = access.AdminGuard(), .blocking = true},
             [&catalog, now_ms](http::Request&) { return List(catalog, now_ms()); });
  router.Add(
      "POST", "/api/tokens",
      {.name = "api_tokens_create",
       .max_body_bytes = kMaxTokenBody,
       .guard = access.AdminGuard(),
       .blocking = true},
      [&catalog, &access, now_ms](http::Request& request) {
        return Create(catalog, access, request, now_ms());
      });
  router.Add("DELETE", "/api/tokens/{name}",
             {.name = "api_tokens_revoke", .guard = access.AdminGuard(), .blocking = true},
             [&catalog, &access](http::Request& request) {
               return Revoke(catalog, access, request);
             });
}

}  // namespace pipy::app
