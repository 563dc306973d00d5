#include "auth/authenticator.h"

#include <arpa/inet.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <mutex>
#include <shared_mutex>
#include <span>

#include "auth/credentials.h"
#include "core/strings.h"
#include "core/timestamp.h"

namespace pipy::auth {

namespace {

// Parses a textual IPv4 or IPv6 address into 16 bytes; IPv4 (and IPv4-mapped IPv6) is
// reported as v4 in the first 4 bytes.
bool ParseAddress(std::string_view text, unsigned char out[16], bool* v6) {
  std::string s(text);
  std::memset(out, 0, 16);
  in_addr a4{};
  if (inet_pton(AF_INET, s.c_str(), &a4) == 1) {
    std::memcpy(out, &a4, 4);
    *v6 = false;
    return true;
  }
  in6_addr a6{};
  if (inet_pton(AF_INET6, s.c_str(), &a6) == 1) {
    static const unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(a6.s6_addr, kMapped, 12) == 0) {
      std::memcpy(out, a6.s6_addr + 12, 4);
      *v6 = false;
      return true;
    }
    std::memcpy(out, a6.s6_addr, 16);
    *v6 = true;
    return true;
  }
  return false;
}

std::string Base64UrlNoPad(const unsigned char* data, std::size_t n) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0;
  for (std::size_t i = 0; i < n; ++i) {
    acc = (acc << 8) | data[i];
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(kAlphabet[(acc >> bits) & 0x3f]);
    }
  }
  if (bits > 0) {
    out.push_back(kAlphabet[(acc << (6 - bits)) & 0x3f]);
  }
  return out;
}

}  // namespace

Result<Cidr> Cidr::Parse(std::string_view text) {
  Cidr cidr;
  std::string_view address = text;
  int prefix = -1;
  if (auto slash = text.find('/'); slash != std::string_view::npos) {
    address = text.substr(0, slash);
    std::string_view bits = text.substr(slash + 1);
    if (bits.empty() || bits.size() > 3) {
      return InvalidArgument("invalid CIDR '" + std::string(text) + "'");
    }
    prefix = 0;
    for (char c : bits) {
      if (c < '0' || c > '9') {
        return InvalidArgument("invalid CIDR '" + std::string(text) + "'");
      }
      prefix = prefix * 10 + (c - '0');
    }
  }
  if (!ParseAddress(address, cidr.bytes_, &cidr.v6_)) {
    return InvalidArgument("invalid CIDR '" + std::string(text) + "'");
  }
  int max_bits = cidr.v6_ ? 128 : 32;
  if (prefix < 0) {
    prefix = max_bits;
  }
  if (prefix > max_bits) {
    return InvalidArgument("invalid CIDR '" + std::string(text) + "': prefix too long");
  }
  cidr.prefix_ = prefix;
  return cidr;
}

bool Cidr::Contains(std::string_view address) const {
  unsigned char bytes[16];
  bool v6 = false;
  if (!ParseAddress(address, bytes, &v6) || v6 != v6_) {
    return false;
  }
  int full = prefix_ / 8;
  if (std::memcmp(bytes, bytes_, static_cast<std::size_t>(full)) != 0) {
    return false;
  }
  int rest = prefix_ % 8;
  if (rest == 0) {
    return true;
  }
  unsigned char mask = static_cast<unsigned char>(0xff << (8 - rest));
  return (bytes[full] & mask) == (bytes_[full] & mask);
}

Result<Authenticator> Authenticator::Create(catalog::Catalog& catalog, AccessOptions options,
                                            ClockMs now_ms) {
  std::vector<Cidr> allow;
  for (const auto& text : options.allow) {
    auto cidr = Cidr::Parse(text);
    if (!cidr) {
      return cidr.error().WithContext("[access] allow");
    }
    allow.push_back(*cidr);
  }
  if (!now_ms) {
    now_ms = [] {
      return std::chrono::duration_cast<std::chrono::milliseconds>(
                 std::chrono::system_clock::now().time_since_epoch())
          .count();
    };
  }
  return Authenticator(catalog, std::move(options), std::move(allow), std::move(now_ms));
}

bool Authenticator::AddressAllowed(std::string_view address) const {
  if (allow_.empty()) {
    return true;
  }
  for (const auto& cidr : allow_) {
    if (cidr.Contains(address)) {
      return true;
    }
  }
  return false;
}

Result<Principal> Authenticator::Authenticate(
    std::optional<std::string_view> authorization) const {
  if (!authorization) {
    return Principal{};
  }
  PIPY_ASSIGN_OR_RETURN(std::string secret, ParseAuthorization(*authorization));
  std::string hash = HashTokenSecret(secret);
  {
    std::shared_lock lock(internal_->mu);
    if (auto it = internal_->by_hash.find(hash); it != internal_->by_hash.end()) {
      return it->second;
    }
  }
  PIPY_ASSIGN_OR_RETURN(auto token, catalog_->FindTokenByHash(hash));
  if (!token || token->revoked) {
    return Unauthenticated("invalid or revoked token");
  }
  const std::int64_t now = now_ms_();
  if (token->expires_ms != 0 && now >= token->expires_ms) {
    return Unauthenticated("token '" + token->name + "' expired at " +
                           FormatUtcTimestamp(token->expires_ms, 3));
  }
  RecordUse(*token, now);
  Principal principal;
  principal.anonymous = false;
  principal.token_name = token->name;
  principal.scopes = token->scopes;
  return principal;
}

void Authenticator::RecordUse(const catalog::TokenRecord& token, std::int64_t now) const {
  {
    std::lock_guard lock(last_use_->mu);
    std::int64_t& written = last_use_->written_ms[token.name];
    // The stored stamp counts too, so nodes sharing a catalog do not each write every minute
    // for a token the others just stamped.
    const std::int64_t last = std::max(written, token.last_used_ms);
    if (now - last < kLastUseIntervalMs) {
      return;
    }
    // Claimed before the write, so concurrent requests of this token do not all write.
    written = now;
  }
  (void)catalog_->TouchToken(token.name, now);
}

void Authenticator::AddInternalToken(std::string_view secret, Principal principal) {
  principal.anonymous = false;
  principal.internal = true;
  std::string hash = HashTokenSecret(secret);
  std::unique_lock lock(internal_->mu);
  internal_->by_hash[std::move(hash)] = std::move(principal);
}

void Authenticator::RemoveInternalToken(std::string_view secret) {
  std::string hash = HashTokenSecret(secret);
  std::unique_lock lock(internal_->mu);
  internal_->by_hash.erase(hash);
}

std::string NewTokenSecret() {
  unsigned char random[32];
  if (RAND_bytes(random, sizeof random) != 1) {
    // No entropy means no safe token: this is an environment failure, not user input.
    std::abort();
  }
  return "pipy_" + Base64UrlNoPad(random, sizeof random);
}

std::string HashTokenSecret(std::string_view secret) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(secret.data(), secret.size(), digest, &len, EVP_sha256(), nullptr);
  return HexEncode(std::span<const unsigned char>(digest, len));
}

}  // namespace pipy::auth
