// The push webhook's parts without HTTP: GitHub's X-Hub-Signature-256 check, the pushed
// ref, and the memory of recent deliveries that makes a replay trigger nothing.
// https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries
#pragma once

#include <cstddef>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>

namespace pipy::builder {

// True when `header` is "sha256=" followed by the hex HMAC-SHA256 of `body` keyed with
// `secret` (hex case-insensitive). Compared in constant time. False for an empty secret.
bool VerifyHubSignature(std::string_view secret, std::string_view body, std::string_view header);

// The hex HMAC-SHA256 of `body` with `secret` (what a sender puts after "sha256=").
std::string HubSignatureHex(std::string_view secret, std::string_view body);

// The "ref" of a push payload ("refs/heads/main"), or nullopt when the body is not a JSON
// object with a string "ref" (a ping, or another event).
std::optional<std::string> PushedRef(std::string_view body);

// The deliveries each source's webhook accepted lately. A delivery is known by its
// X-GitHub-Delivery id and by the sha256 of its (signed) body: the id header is not
// covered by the signature, so a replay may come with a fresh one. The last `capacity`
// deliveries of each source are remembered (only configured sources reach it: call it
// after the signature check). Thread-safe.
class RecentDeliveries {
 public:
  explicit RecentDeliveries(std::size_t capacity = 10'000) : capacity_(capacity) {}

  // True, and remembered, the first time; false when `source` already accepted a delivery
  // with this id (when not empty) or this body.
  bool FirstTime(std::string_view source, std::string_view delivery_id, std::string_view body);

 private:
  struct Seen {
    // (id digest or empty, body digest), oldest first
    std::deque<std::pair<std::string, std::string>> order;
    std::unordered_set<std::string> ids;
    std::unordered_set<std::string> bodies;
  };

  const std::size_t capacity_;
  std::mutex mu_;
  std::map<std::string, Seen, std::less<>> by_source_;  // guarded by mu_
};

}  // namespace pipy::builder
