// Access control for HTTP handlers: the allowlist, anonymous reads and tokens, applied the
// same way by every protocol (python/, web/, npm/).
#pragma once

#include <memory>

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "auth/authenticator.h"
#include "auth/failure_limiter.h"
#include "auth/principal.h"
#include "core/status.h"
#include "http/message.h"
#include "http/router.h"

namespace pipy::app {

class Access {
 public:
  // `limiter` counts failed authentications per client address (default: 20 a minute);
  // past it, that address's failures get kTooManyRequests (429) instead of 401, while its
  // valid tokens keep working.
  explicit Access(const auth::Authenticator& authenticator,
                  auth::FailureLimiter::Options limiter = {})
      : auth_(authenticator), limiter_(std::make_unique<auth::FailureLimiter>(limiter)) {}

  // The caller of a read request. Errors: kPermissionDenied outside the allowlist;
  // kUnauthenticated for a bad token, or for no token when anonymous reads are off;
  // kTooManyRequests for a bad token from an address with too many failures.
  Result<auth::Principal> ForRead(const http::Request& request) const;
  // The caller of a write request: like ForRead, but anonymous callers get
  // kUnauthenticated. Scope checks are the index's job.
  Result<auth::Principal> ForWrite(const http::Request& request) const;

  // The principal `secret` names, for a caller from an allowed address: npm's login sends
  // a token as a password. kUnauthenticated for an unknown or revoked one (or "").
  Result<auth::Principal> ForSecret(const http::Request& request, std::string_view secret) const;
  // Guards for RouteOptions: answer 401/403 before a body is read.
  http::Guard ReadGuard() const;
  http::Guard WriteGuard() const;
  // WriteGuard, then 403 unless the token may upload to the project named by the
  // request's `param` path parameter after `normalize` (a format's name rule).
  http::Guard ProjectWriteGuard(std::string param,
                                std::function<std::string(std::string_view)> normalize) const;
  // WriteGuard, then 403 unless the token is admin.
  http::Guard AdminGuard() const;
  // For ServerOptions::admission: 403 outside the address allowlist, for every route but
  // /healthz, decided before routing and before any body byte is read.
  http::Guard AdmissionGuard() const;

 private:
  // The principal the request's credential names; a credential that does not authenticate
  // counts as a failure of its address.
  Result<auth::Principal> Authenticate(const http::Request& request) const;
  // `failure` (kUnauthenticated), or kTooManyRequests when it was one too many.
  Status Failed(const http::Request& request, Status failure) const;

  const auth::Authenticator& auth_;
  std::unique_ptr<auth::FailureLimiter> limiter_;  // thread-safe; a pointer keeps Access movable
};

}  // namespace pipy::app
