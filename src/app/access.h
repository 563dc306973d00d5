// Access control for HTTP handlers: the allowlist, anonymous reads and tokens, applied the
// same way by every protocol (python/, web/, npm/).
#pragma once

#include <optional>

#include "auth/authenticator.h"
#include "auth/principal.h"
#include "core/status.h"
#include "http/message.h"
#include "http/router.h"

namespace pipy::app {

class Access {
 public:
  explicit Access(const auth::Authenticator& authenticator) : auth_(authenticator) {}

  // The caller of a read request. Errors: kPermissionDenied outside the allowlist;
  // kUnauthenticated for a bad token, or for no token when anonymous reads are off.
  Result<auth::Principal> ForRead(const http::Request& request) const;
  // The caller of a write request: like ForRead, but anonymous callers get
  // kUnauthenticated. Scope checks are the index's job.
  Result<auth::Principal> ForWrite(const http::Request& request) const;

  // Guards for RouteOptions: answer 401/403 before a body is read.
  http::Guard ReadGuard() const;
  http::Guard WriteGuard() const;

 private:
  const auth::Authenticator& auth_;
};

}  // namespace pipy::app
