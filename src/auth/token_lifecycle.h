// Issuing API tokens, the same for `pipy token create` and the admin API (POST /api/tokens):
// the name, scope and lifetime rules, the secret, and the record the catalog keeps.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/catalog.h"
#include "core/status.h"

namespace pipy::auth {

// A token just stored, with its secret: the only moment the secret exists outside the
// client (the catalog keeps its hash).
struct IssuedToken {
  catalog::TokenRecord record;
  std::string secret;
};

// kInvalidArgument unless `name` is 1 to 128 printable ASCII characters without spaces or
// '/' (it is a path segment of DELETE /api/tokens/<name>).
Status CheckTokenName(std::string_view name);

// A token lifetime in milliseconds: a positive duration as core/units.h writes it ("90d",
// "12h", "1s"). kInvalidArgument otherwise.
Result<std::int64_t> ParseTokenLifetime(std::string_view text);

// Checks the name and scopes (at least one; each read, upload:<glob> or admin), then stores
// a new token created at `now_ms` that expires `lifetime_ms` later (0: never). Errors:
// kInvalidArgument for a bad name or scope, kAlreadyExists for a name in use, the
// catalog's status otherwise.
Result<IssuedToken> IssueToken(catalog::Catalog& catalog, std::string name,
                               std::vector<std::string> scopes, std::int64_t lifetime_ms,
                               std::int64_t now_ms);

// Unix milliseconds now (the system clock).
std::int64_t WallClockMs();

}  // namespace pipy::auth
