// Authentication and the network allowlist. Tokens are looked up by hash in the catalog
// on every authenticated request (nothing is cached), so a token created or revoked by
// `pipy token` or the admin API, on this node or any other sharing the catalog, takes
// effect at once.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
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

// Unix milliseconds now; injectable so tests can move time.
using ClockMs = std::function<std::int64_t()>;

// A token's last use is written to the catalog at most this often per token and node.
inline constexpr std::int64_t kLastUseIntervalMs = 60'000;

class Authenticator {
 public:
  // Fails with kInvalidArgument naming a bad CIDR. `now_ms` defaults to the system clock.
  static Result<Authenticator> Create(catalog::Catalog& catalog, AccessOptions options,
                                      ClockMs now_ms = nullptr);

  // True when `address` may talk to the server at all.
  bool AddressAllowed(std::string_view address) const;
  bool anonymous_read() const { return options_.anonymous_read; }

  // Resolves an Authorization header value: "Basic base64(__token__:SECRET)" (any user
  // name is accepted, as pip may send its own) or "Bearer SECRET". No header: an
  // anonymous principal. A malformed header or an unknown or revoked token:
  // kUnauthenticated; an expired one: kUnauthenticated "token '<name>' expired at <RFC
  // 3339>". A catalog failure: its status (kUnavailable, ...). A success records the
  // token's last use in the catalog when the stored one (or the last this node wrote) is
  // kLastUseIntervalMs old or more, so most requests write nothing; a failed write is
  // ignored (the stamp is best effort and must not refuse a valid token).
  Result<Principal> Authenticate(std::optional<std::string_view> authorization) const;

  // Makes `secret` a credential of this process only, resolving to `principal` (marked
  // internal) until RemoveInternalToken; nothing is stored in the catalog. It passes the
  // allowlist no more than any token. Thread-safe (a build adds its own while serving).
  void AddInternalToken(std::string_view secret, Principal principal);
  // Forgets `secret`: from then on it is kUnauthenticated. Unknown secrets are ignored.
  // Thread-safe.
  void RemoveInternalToken(std::string_view secret);

 private:
  Authenticator(catalog::Catalog& catalog, AccessOptions options, std::vector<Cidr> allow,
                ClockMs now_ms)
      : catalog_(&catalog),
        options_(std::move(options)),
        allow_(std::move(allow)),
        now_ms_(std::move(now_ms)) {}
  // Writes the token's last use unless it was written less than kLastUseIntervalMs ago.
  void RecordUse(const catalog::TokenRecord& token, std::int64_t now) const;

  catalog::Catalog* catalog_;
  AccessOptions options_;
  std::vector<Cidr> allow_;
  ClockMs now_ms_;
  struct LastUse {
    std::mutex mu;
    std::unordered_map<std::string, std::int64_t> written_ms;  // token name -> ms; guarded by mu
  };
  std::unique_ptr<LastUse> last_use_ = std::make_unique<LastUse>();
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
