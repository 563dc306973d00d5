#include "storage/sigv4.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <span>

#include "core/sha256.h"
#include "core/strings.h"

namespace pipy::storage::sigv4 {
namespace {

std::string HmacSha256(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(data.data()), data.size(), out,
           &len) == nullptr) {
    // Only when OpenSSL is out of memory or misbuilt; nothing sensible to return.
    std::fprintf(stderr, "pipy: OpenSSL HMAC failed\n");
    std::abort();
  }
  return std::string(reinterpret_cast<const char*>(out), len);
}

bool IsUnreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
         c == '-' || c == '.' || c == '_' || c == '~';
}

// Trimmed, with every inner run of spaces and tabs collapsed to one space.
std::string CanonicalHeaderValue(std::string_view value) {
  std::string_view trimmed = TrimSpacesAndTabs(value);
  std::string out;
  out.reserve(trimmed.size());
  bool in_space = false;
  for (char c : trimmed) {
    if (c == ' ' || c == '\t') {
      in_space = true;
      continue;
    }
    if (in_space) {
      out.push_back(' ');
      in_space = false;
    }
    out.push_back(c);
  }
  return out;
}

// Lowercased names with their canonical values, sorted by name (stable, so duplicates keep
// their order) and merged: one entry per name, values joined with ','.
Pairs CanonicalHeaders(const Pairs& headers) {
  Pairs lowered;
  lowered.reserve(headers.size());
  for (const auto& [name, value] : headers) {
    lowered.emplace_back(AsciiLower(name), CanonicalHeaderValue(value));
  }
  std::stable_sort(lowered.begin(), lowered.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  Pairs merged;
  for (auto& [name, value] : lowered) {
    if (!merged.empty() && merged.back().first == name) {
      merged.back().second += "," + value;
    } else {
      merged.emplace_back(std::move(name), std::move(value));
    }
  }
  return merged;
}

std::string CredentialScope(std::string_view date, const Scope& scope) {
  return std::string(date) + "/" + scope.region + "/" + scope.service + "/aws4_request";
}

std::string SignatureHex(const Credentials& credentials, std::string_view amz_date,
                         const Scope& scope, std::string_view string_to_sign) {
  std::string key = SigningKey(credentials.secret_access_key, amz_date.substr(0, 8), scope);
  std::string mac = HmacSha256(key, string_to_sign);
  return HexEncode(
      std::span<const unsigned char>(reinterpret_cast<const unsigned char*>(mac.data()),
                                     mac.size()));
}

}  // namespace

std::string UriEncode(std::string_view s, bool encode_slash) {
  std::string out;
  out.reserve(s.size());
  for (char ch : s) {
    unsigned char c = static_cast<unsigned char>(ch);
    if (IsUnreserved(c) || (c == '/' && !encode_slash)) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      AppendHexByte(out, c, HexCase::kUpper);
    }
  }
  return out;
}

std::string AmzDate(std::int64_t unix_seconds) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

std::string CanonicalQueryString(const Pairs& query) {
  Pairs encoded;
  encoded.reserve(query.size());
  for (const auto& [name, value] : query) {
    encoded.emplace_back(UriEncode(name, true), UriEncode(value, true));
  }
  std::sort(encoded.begin(), encoded.end());  // byte order, as the spec requires
  std::string out;
  for (const auto& [name, value] : encoded) {
    if (!out.empty()) {
      out.push_back('&');
    }
    out += name;
    out.push_back('=');
    out += value;
  }
  return out;
}

std::string SignedHeaderNames(const Pairs& headers) {
  std::string out;
  for (const auto& [name, value] : CanonicalHeaders(headers)) {
    if (!out.empty()) {
      out.push_back(';');
    }
    out += name;
  }
  return out;
}

std::string CanonicalRequest(const Request& request) {
  std::string out = request.method;
  out.push_back('\n');
  out += UriEncode(request.path, false);
  out.push_back('\n');
  out += CanonicalQueryString(request.query);
  out.push_back('\n');
  for (const auto& [name, value] : CanonicalHeaders(request.headers)) {
    out += name;
    out.push_back(':');
    out += value;
    out.push_back('\n');
  }
  out.push_back('\n');
  out += SignedHeaderNames(request.headers);
  out.push_back('\n');
  out += request.payload_hash;
  return out;
}

std::string StringToSign(std::string_view amz_date, const Scope& scope,
                         std::string_view canonical_request) {
  std::string out(kAlgorithm);
  out.push_back('\n');
  out += amz_date;
  out.push_back('\n');
  out += CredentialScope(amz_date.substr(0, 8), scope);
  out.push_back('\n');
  out += Sha256Hex(canonical_request);
  return out;
}

std::string SigningKey(std::string_view secret_access_key, std::string_view date,
                       const Scope& scope) {
  std::string k_date = HmacSha256("AWS4" + std::string(secret_access_key), date);
  std::string k_region = HmacSha256(k_date, scope.region);
  std::string k_service = HmacSha256(k_region, scope.service);
  return HmacSha256(k_service, "aws4_request");
}

Signed SignHeaders(Request& request, const Credentials& credentials, const Scope& scope,
                   std::int64_t unix_seconds) {
  std::string amz_date = AmzDate(unix_seconds);
  request.headers.emplace_back("x-amz-date", amz_date);
  if (!credentials.session_token.empty()) {
    request.headers.emplace_back("x-amz-security-token", credentials.session_token);
  }
  Signed out;
  out.canonical_request = CanonicalRequest(request);
  out.string_to_sign = StringToSign(amz_date, scope, out.canonical_request);
  out.signature = SignatureHex(credentials, amz_date, scope, out.string_to_sign);
  out.signed_headers = SignedHeaderNames(request.headers);
  out.authorization = std::string(kAlgorithm) + " Credential=" + credentials.access_key_id + "/" +
                      CredentialScope(amz_date.substr(0, 8), scope) +
                      ", SignedHeaders=" + out.signed_headers + ", Signature=" + out.signature;
  return out;
}

Signed Presign(Request& request, const Credentials& credentials, const Scope& scope,
               std::int64_t unix_seconds, std::int64_t expires_seconds, std::string* query) {
  std::string amz_date = AmzDate(unix_seconds);
  expires_seconds = std::clamp<std::int64_t>(expires_seconds, 1, 604800);
  Signed out;
  out.signed_headers = SignedHeaderNames(request.headers);
  request.query.emplace_back("X-Amz-Algorithm", std::string(kAlgorithm));
  request.query.emplace_back(
      "X-Amz-Credential",
      credentials.access_key_id + "/" + CredentialScope(amz_date.substr(0, 8), scope));
  request.query.emplace_back("X-Amz-Date", amz_date);
  request.query.emplace_back("X-Amz-Expires", std::to_string(expires_seconds));
  request.query.emplace_back("X-Amz-SignedHeaders", out.signed_headers);
  if (!credentials.session_token.empty()) {
    request.query.emplace_back("X-Amz-Security-Token", credentials.session_token);
  }
  out.canonical_request = CanonicalRequest(request);
  out.string_to_sign = StringToSign(amz_date, scope, out.canonical_request);
  out.signature = SignatureHex(credentials, amz_date, scope, out.string_to_sign);
  if (query != nullptr) {
    *query = CanonicalQueryString(request.query) + "&X-Amz-Signature=" + out.signature;
  }
  return out;
}

}  // namespace pipy::storage::sigv4
