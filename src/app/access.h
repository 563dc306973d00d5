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
#include "index/audit_log.h"

namespace pipy::app {

class Access {
 public:
  // `limiter` counts failed authentications per client address (default: 20 a minute);
  // past it, that address's failures get kTooManyRequests (429) instead of 401, while its
  // valid tokens keep working.
  explicit Access(const auth::Authenticator& authenticator,
                  auth::FailureLimiter::Options limiter = {})
      : auth_(authenticator), limiter_(std::make_unique<auth::FailureLimiter>(limiter)) {}

  // The audit log the guards record their permission refusals in, and Audit writes to;
  // nullptr (the default) records nothing. Set once before serving.
  void SetAuditLog(const index::AuditLog* log) { audit_ = log; }
  // Records `event` done by `who` (a principal from this class) with `status`'s outcome.
  void Audit(const auth::Principal& who, const index::AuditEvent& event,
             const Status& status) const;

  // The caller of a read request, with the request's remote address in
  // Principal::address (as every principal below). Errors: kPermissionDenied outside the
  // allowlist; kUnauthenticated for a bad token, or for no token when anonymous reads are off;
  // kTooManyRequests for a bad token from an address with too many failures.
  Result<auth::Principal> ForRead(const http::Request& request) const;
  // The caller of a write request: like ForRead, but anonymous callers get
  // kUnauthenticated. Scope checks are the index's job.
  Result<auth::Principal> ForWrite(const http::Request& request) const;

  // The principal `secret` names, for a caller from an allowed address: npm's login sends
  // a token as a password. kUnauthenticated for an unknown or revoked one (or "").
  Result<auth::Principal> ForSecret(const http::Request& request, std::string_view secret) const;
  // Guards for RouteOptions: answer 401/403 before a body is read. A 403 from
  // ProjectWriteGuard or AdminGuard to a token on a write method (not GET/HEAD) is recorded
  // in the audit log, with the action the request's path names (AuditEventOf).
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

  // The Cache-Control of index pages (simple pages, packuments): shared caches may keep
  // them for a minute when anyone may read them; when reads need a token, only the
  // client's own cache may (RFC 9111 section 3.5: "public" would let a shared cache
  // inside the network hand a token holder's page to anonymous clients).
  std::string_view PageCacheControl() const {
    return auth_.anonymous_read() ? "max-age=60, public" : "max-age=60, private";
  }

 private:
  // The principal the request's credential names; a credential that does not authenticate
  // counts as a failure of its address.
  Result<auth::Principal> Authenticate(const http::Request& request) const;
  // `failure` (kUnauthenticated), or kTooManyRequests when it was one too many.
  Status Failed(const http::Request& request, Status failure) const;
  // Records a guard's refusal of `request` to `who`; nothing for reads.
  void AuditRefusal(const http::Request& request, const auth::Principal& who,
                    const Status& refusal) const;

  const auth::Authenticator& auth_;
  std::unique_ptr<auth::FailureLimiter> limiter_;  // thread-safe; a pointer keeps Access movable
  const index::AuditLog* audit_ = nullptr;
};

// The audit event a write request to `path` (with `method`) stands for when a guard refuses
// it: "token.create", "token.revoke", "rebuild", "yank", "unyank", "takedown.release",
// "takedown.file" for their routes, "request" with the method and path as target for others.
index::AuditEvent AuditEventOf(std::string_view method, std::string_view path);

}  // namespace pipy::app
