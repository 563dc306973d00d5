// AWS Signature Version 4 (the "AWS4-HMAC-SHA256" scheme), written here because Debian has
// no AWS SDK. Pure functions: the time is an argument, nothing touches the network.
//
// Specification: "Signing AWS API requests" (docs.aws.amazon.com/IAM/latest/UserGuide/
// reference_sigv-create-signed-request.html) and, for S3, "Authenticating Requests (AWS
// Signature Version 4)" (docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-authenticating-
// requests.html), header-based and query-string (presigned URL) variants.
//
// S3 rules, which this signer follows for every service: the path is URI-encoded exactly
// once and '/' is kept; no dot-segment or double-slash normalization.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pipy::storage::sigv4 {

inline constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";
// x-amz-content-sha256 value for a body that is not hashed (presigned URLs).
inline constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";
// Lowercase hex sha256 of the empty string: the payload hash of a request with no body.
inline constexpr std::string_view kEmptyPayloadHash =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // optional (temporary credentials): sent as x-amz-security-token
};

// The credential scope's variable part: <date>/<region>/<service>/aws4_request.
struct Scope {
  std::string region = "us-east-1";
  std::string service = "s3";
};

using Pairs = std::vector<std::pair<std::string, std::string>>;

// One request as the signer sees it. Everything is raw (not percent-encoded): the signer
// encodes the path and the query itself, so callers build URLs with the same functions.
struct Request {
  std::string method = "GET";
  std::string path = "/";  // raw, e.g. "/bucket/some key"; must start with '/'
  Pairs query;             // raw names and values, any order, duplicates allowed
  Pairs headers;           // any case; must contain "host"; every header here is signed
  std::string payload_hash = std::string(kEmptyPayloadHash);  // or kUnsignedPayload
};

// The intermediate and final values, exposed so tests can tell which step went wrong.
struct Signed {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;      // lowercase hex
  std::string signed_headers; // "host;x-amz-date"
  std::string authorization;  // the Authorization header value (header signing only)
};

// RFC 3986 percent-encoding as SigV4 defines it: unreserved bytes (A-Z a-z 0-9 - . _ ~)
// unchanged, everything else %XX with uppercase hex, '/' kept unless `encode_slash`.
std::string UriEncode(std::string_view s, bool encode_slash);

// "YYYYMMDDTHHMMSSZ" for `unix_seconds` (UTC).
std::string AmzDate(std::int64_t unix_seconds);

// name=value pairs, each side UriEncode'd (slashes too), sorted by encoded name then value,
// joined with '&'. Also the query string callers must put in the URL they send.
std::string CanonicalQueryString(const Pairs& query);

// Lowercased names, sorted, ';'-joined.
std::string SignedHeaderNames(const Pairs& headers);

// The six-part canonical request (method, URI, query, headers, signed headers, payload).
// Header values are trimmed and inner runs of spaces collapsed; duplicate names are joined
// with ',' in the order given.
std::string CanonicalRequest(const Request& request);

// "AWS4-HMAC-SHA256\n<amz_date>\n<date>/<region>/<service>/aws4_request\n<hex sha256(creq)>".
std::string StringToSign(std::string_view amz_date, const Scope& scope,
                         std::string_view canonical_request);

// HMAC chain "AWS4"+secret -> date -> region -> service -> "aws4_request"; raw 32 bytes.
std::string SigningKey(std::string_view secret_access_key, std::string_view date,
                       const Scope& scope);

// Signs `request` for header authentication at `unix_seconds`: adds x-amz-date (and
// x-amz-security-token when the credentials carry one) to request.headers before signing,
// and returns the Authorization value the caller sends along with those headers.
Signed SignHeaders(Request& request, const Credentials& credentials, const Scope& scope,
                   std::int64_t unix_seconds);

// Presigns `request` (query-string authentication): adds X-Amz-Algorithm, X-Amz-Credential,
// X-Amz-Date, X-Amz-Expires, X-Amz-SignedHeaders (and X-Amz-Security-Token) to
// request.query, signs with request.payload_hash (normally kUnsignedPayload), and returns
// the full query string to append after '?', X-Amz-Signature last. `expires_seconds` is
// 1..604800 (7 days), clamped.
Signed Presign(Request& request, const Credentials& credentials, const Scope& scope,
               std::int64_t unix_seconds, std::int64_t expires_seconds, std::string* query);

}  // namespace pipy::storage::sigv4
