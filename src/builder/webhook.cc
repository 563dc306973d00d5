#include "builder/webhook.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <boost/json.hpp>

#include "core/strings.h"

namespace pipy::builder {

std::string HubSignatureHex(std::string_view secret, std::string_view body) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(body.data()), body.size(), mac, &mac_len);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < mac_len; ++i) {
    hex += kHex[mac[i] >> 4];
    hex += kHex[mac[i] & 0xf];
  }
  return hex;
}

bool VerifyHubSignature(std::string_view secret, std::string_view body, std::string_view header) {
  constexpr std::string_view kPrefix = "sha256=";
  if (secret.empty() || !header.starts_with(kPrefix)) {
    return false;
  }
  std::string given = AsciiLower(header.substr(kPrefix.size()));
  std::string expected = HubSignatureHex(secret, body);
  if (given.size() != expected.size()) {
    return false;
  }
  return CRYPTO_memcmp(given.data(), expected.data(), expected.size()) == 0;
}

std::optional<std::string> PushedRef(std::string_view body) {
  boost::system::error_code ec;
  boost::json::value value = boost::json::parse(body, ec);
  if (ec || !value.is_object()) {
    return std::nullopt;
  }
  const boost::json::value* ref = value.as_object().if_contains("ref");
  if (ref == nullptr || !ref->is_string()) {
    return std::nullopt;
  }
  return std::string(ref->as_string());
}

bool RecentDeliveries::FirstTime(std::string_view source, std::string_view delivery_id,
                                 std::string_view body) {
  // Digests, not the texts: 10,000 entries stay small whatever the headers carried.
  auto sha256 = [](std::string_view text) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_Digest(text.data(), text.size(), digest, &len, EVP_sha256(), nullptr);
    return std::string(reinterpret_cast<const char*>(digest), len);
  };
  std::string body_digest = sha256(body);
  std::string id = delivery_id.empty() ? "" : sha256(delivery_id);
  std::lock_guard lock(mu_);
  auto it = by_source_.find(source);
  if (it == by_source_.end()) {
    it = by_source_.emplace(std::string(source), Seen{}).first;
  }
  Seen& seen = it->second;
  if ((!id.empty() && seen.ids.contains(id)) || seen.bodies.contains(body_digest)) {
    return false;
  }
  if (!id.empty()) {
    seen.ids.insert(id);
  }
  seen.bodies.insert(body_digest);
  seen.order.emplace_back(std::move(id), std::move(body_digest));
  while (seen.order.size() > capacity_) {
    auto& [old_id, old_body] = seen.order.front();
    if (!old_id.empty()) {
      seen.ids.erase(old_id);
    }
    seen.bodies.erase(old_body);
    seen.order.pop_front();
  }
  return true;
}

}  // namespace pipy::builder
