// Authentication and the network allowlist. Tokens are looked up by hash in the catalog
// on every authenticated request, so a token created or revoked by `pipy token` on a
// running server takes effect at once.
#pragma once

#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "auth/principal.h"
#include "catalog/catalog.h"
#include "core/status.h"

namespace pipy::auth {

struct AccessOptions {
  std::vector<std::string> allow;   // CIDRs; empty = every address
  bool anonymous_read = true;       // false: reads need a token
};

// One parsed CIDR block, IPv4 or IPv6.
class Cidr {
 public:
  // Parses "10.0.0.0/8", "::1/128", "127.0.0.1" (a single host); kInvalidArgument otherwise.
  static Result<Cidr> Parse(std::string_view text);
  // True when `address` (textual IPv4/IPv6, IPv4-mapped IPv6 included) is inside.
  bool Contains(std::string_view address) const;

 private:
  bool v6_ = false;
  unsigned char bytes_[16] = {};
  int prefix_ = 0;
};

class Authenticator {
 public:
  // Fails with kInvalidArgument naming a bad CIDR.
  static Result<Authenticator> Create(catalog::Catalog& catalog, AccessOptions options);

  // True when `address` may talk to the server at all.
  bool AddressAllowed(std::string_view address) const;
  bool anonymous_read() const { return options_.anonymous_read; }

  // Resolves an Authorization header value: "Basic base64(__token__:SECRET)" (any user
  // name is accepted, as pip may send its own) or "Bearer SECRET". No header: an
  // anonymous principal. A malformed header or an unknown or revoked token:
  // kUnauthenticated. A catalog failure: its status (kUnavailable, ...).
  Result<Principal> Authenticate(std::optional<std::string_view> authorization) const;

  // Makes `secret` a credential of this process only, resolving to `principal` (marked
  // internal) until RemoveInternalToken; nothing is stored in the catalog. It passes the
  // allowlist no more than any token. Thread-safe (a build adds its own while serving).
  void AddInternalToken(std::string_view secret, Principal principal);
  // Forgets `secret`: from then on it is kUnauthenticated. Unknown secrets are ignored.
  // Thread-safe.
  void RemoveInternalToken(std::string_view secret);

 private:
  Authenticator(catalog::Catalog& catalog, AccessOptions options, std::vector<Cidr> allow)
      : catalog_(&catalog), options_(std::move(options)), allow_(std::move(allow)) {}
  catalog::Catalog* catalog_;
  AccessOptions options_;
  std::vector<Cidr> allow_;
  // Behind a pointer so the Authenticator stays movable (Create returns it by value).
  struct InternalTokens {
    mutable std::shared_mutex mu;
    std::unordered_map<std::string, Principal> by_hash;  // secret hash -> principal; guarded by mu
  };
  std::unique_ptr<InternalTokens> internal_ = std::make_unique<InternalTokens>();
};

// A new token secret: "pipy_" followed by 43 base64url characters (256 random bits).
std::string NewTokenSecret();
// Hex sha256 of a token secret, as stored in the catalog.
std::string HashTokenSecret(std::string_view secret);

}  // namespace pipy::auth
