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

}  // namespace pipy::builder
