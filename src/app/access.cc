#include "app/access.h"

namespace pipy::app {

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
      return http::ErrorResponse(PermissionDenied("token '" + who->token_name +
                                                  "' may not change project '" + project + "'"));
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
      return http::ErrorResponse(PermissionDenied("this needs an admin token"));
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
