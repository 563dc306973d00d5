#include "app/access.h"

#include <vector>

#include "core/pep503.h"

namespace pipy::app {

void Access::Audit(const auth::Principal& who, const index::AuditEvent& event,
                   const Status& status) const {
  if (audit_ != nullptr) {
    audit_->Record(who, event, status);
  }
}

void Access::AuditRefusal(const http::Request& request, const auth::Principal& who,
                          const Status& refusal) const {
  if (request.method == "GET" || request.method == "HEAD") {
    return;  // a read changes nothing: not an auditable change
  }
  Audit(who, AuditEventOf(request.method, request.path), refusal);
}

index::AuditEvent AuditEventOf(std::string_view method, std::string_view path) {
  std::vector<std::string_view> parts;
  for (std::size_t start = 1; start <= path.size();) {
    std::size_t end = path.find('/', start);
    if (end == std::string_view::npos) {
      end = path.size();
    }
    if (end > start) {
      parts.push_back(path.substr(start, end - start));
    }
    start = end + 1;
  }
  auto is = [&](std::size_t n, std::string_view first, std::string_view second) {
    return parts.size() == n && parts[0] == first && parts[1] == second;
  };
  if (method == "POST" && is(2, "api", "tokens")) {
    return {index::kAuditTokenCreate, "", "", ""};
  }
  if (method == "DELETE" && is(3, "api", "tokens")) {
    return {index::kAuditTokenRevoke, "", "", std::string(parts[2])};
  }
  if (method == "POST" && is(2, "api", "builds")) {
    return {index::kAuditRebuild, "", "", ""};
  }
  if (parts.size() >= 4 && parts[0] == "api" && parts[1] == "python") {
    const std::string project = pep503::NormalizeName(parts[2]);
    const std::string version(parts[3]);
    if (parts.size() == 5 && parts[4] == "yank" && (method == "POST" || method == "DELETE")) {
      return {method == "POST" ? index::kAuditYank : index::kAuditUnyank, "python", project,
              version};
    }
    if (method == "DELETE" && parts.size() == 4) {
      return {index::kAuditRemoveRelease, "python", project, version};
    }
    if (method == "DELETE" && parts.size() == 5) {
      return {index::kAuditRemoveFile, "python", project, std::string(parts[4])};
    }
  }
  return {"request", "", "", std::string(method) + " " + std::string(path)};
}

Status Access::Failed(const http::Request& request, Status failure) const {
  if (limiter_->RecordFailure(request.remote_address)) {
    return TooManyRequests("too many failed authentications from " + request.remote_address +
                           "; try again in a minute");
  }
  return failure;
}

// The caller of `request` if its address is allowed; else kPermissionDenied, whatever
// credential it carries (the builder's own included). Outsiders learn nothing about
// tokens from it.
Result<auth::Principal> Access::Authenticate(const http::Request& request) const {
  if (!auth_.AddressAllowed(request.remote_address)) {
    return PermissionDenied("address " + request.remote_address + " is not allowed");
  }
  Result<auth::Principal> who = auth_.Authenticate(request.header("authorization"));
  if (!who && who.error().code() == StatusCode::kUnauthenticated) {
    return Failed(request, who.error());
  }
  if (who) {
    who->address = request.remote_address;
  }
  return who;
}

Result<auth::Principal> Access::ForRead(const http::Request& request) const {
  PIPY_ASSIGN_OR_RETURN(auth::Principal who, Authenticate(request));
  if (who.anonymous && !auth_.anonymous_read()) {
    return Unauthenticated("this repository needs a token to read");
  }
  return who;
}

Result<auth::Principal> Access::ForWrite(const http::Request& request) const {
  PIPY_ASSIGN_OR_RETURN(auth::Principal who, Authenticate(request));
  if (who.anonymous) {
    return Unauthenticated("uploading needs a token (user __token__, password TOKEN)");
  }
  return who;
}

Result<auth::Principal> Access::ForSecret(const http::Request& request,
                                         std::string_view secret) const {
  if (!auth_.AddressAllowed(request.remote_address)) {
    return PermissionDenied("address " + request.remote_address + " is not allowed");
  }
  if (secret.empty()) {
    return Unauthenticated("no token given");
  }
  Result<auth::Principal> who = auth_.Authenticate("Bearer " + std::string(secret));
  if (!who && who.error().code() == StatusCode::kUnauthenticated) {
    return Failed(request, who.error());
  }
  PIPY_RETURN_IF_ERROR(who.status());
  if (who->anonymous) {
    return Failed(request, Unauthenticated("unknown token"));
  }
  who->address = request.remote_address;
  return who;
}

http::Guard Access::ReadGuard() const {
  return [this](const http::Request& request) -> std::optional<http::Response> {
    auto who = ForRead(request);
    if (!who) {
      return http::ErrorResponse(who.error());
    }
    return std::nullopt;
  };
}

http::Guard Access::ProjectWriteGuard(
    std::string param, std::function<std::string(std::string_view)> normalize) const {
  return [this, param = std::move(param),
          normalize = std::move(normalize)](const http::Request& request)
             -> std::optional<http::Response> {
    auto who = ForWrite(request);
    if (!who) {
      return http::ErrorResponse(who.error());
    }
    std::string project = normalize(request.param(param));
    if (!who->CanUpload(project)) {
      Status refusal =
          PermissionDenied("token '" + who->token_name + "' may not change project '" + project +
                           "'");
      AuditRefusal(request, *who, refusal);
      return http::ErrorResponse(refusal);
    }
    return std::nullopt;
  };
}

http::Guard Access::AdminGuard() const {
  return [this](const http::Request& request) -> std::optional<http::Response> {
    auto who = ForWrite(request);
    if (!who) {
      return http::ErrorResponse(who.error());
    }
    if (!who->IsAdmin()) {
      Status refusal = PermissionDenied("this needs an admin token");
      AuditRefusal(request, *who, refusal);
      return http::ErrorResponse(refusal);
    }
    return std::nullopt;
  };
}

http::Guard Access::AdmissionGuard() const {
  return [this](const http::Request& request) -> std::optional<http::Response> {
    if (auth_.AddressAllowed(request.remote_address)) {
      return std::nullopt;
    }
    return http::ErrorResponse(
        PermissionDenied("address " + request.remote_address + " is not allowed"));
  };
}

http::Guard Access::WriteGuard() const {
  return [this](const http::Request& request) -> std::optional<http::Response> {
    auto who = ForWrite(request);
    if (!who) {
      return http::ErrorResponse(who.error());
    }
    return std::nullopt;
  };
}

}  // namespace pipy::app
