// The push webhook's pure parts: GitHub's X-Hub-Signature-256 check and the pushed ref.
// https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace pipy::builder {

// True when `header` is "sha256=" followed by the hex HMAC-SHA256 of `body` keyed with
// `secret` (hex case-insensitive). Compared in constant time. False for an empty secret.
bool VerifyHubSignature(std::string_view secret, std::string_view body, std::string_view header);

// The hex HMAC-SHA256 of `body` with `secret` (what a sender puts after "sha256=").
std::string HubSignatureHex(std::string_view secret, std::string_view body);

// The "ref" of a push payload ("refs/heads/main"), or nullopt when the body is not a JSON
// object with a string "ref" (a ping, or another event).
std::optional<std::string> PushedRef(std::string_view body);

}  // namespace pipy::builder
