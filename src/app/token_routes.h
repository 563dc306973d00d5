// The admin API for tokens: GET /api/tokens (every token, never a secret or a hash),
// POST /api/tokens {"name", "scopes", "expires"?} (201 with the secret, the only time it is
// shown), DELETE /api/tokens/<name> (revokes it at once, on every node: the authenticator
// reads tokens from the catalog on each request). Admin tokens only: no token is 401, any
// other token 403.
#pragma once

#include "app/access.h"
#include "auth/authenticator.h"
#include "catalog/catalog.h"
#include "http/router.h"

namespace pipy::app {

// `catalog` and `access` must outlive the router. `now_ms` (default: the system clock)
// stamps creation and expiry.
void RegisterTokenRoutes(http::Router& router, catalog::Catalog& catalog, const Access& access,
                         auth::ClockMs now_ms = nullptr);

}  // namespace pipy::app
