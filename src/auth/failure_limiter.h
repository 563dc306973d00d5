// FailureLimiter: counts failed authentications per client address over a sliding window, so
// that guessing tokens from one address is cut off ("more than 20 failed authentications
// within a minute from one address get 429") while valid tokens from that address keep
// working: only failures are counted, and only failures are refused.
//
// Memory is bounded: at most `max_failures` timestamps per address and `max_addresses`
// addresses; when that many are tracked, addresses whose failures all left the window are
// forgotten, and if none did the table starts over (a flood from that many addresses is cut
// by the connection limits, not here). Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace pipy::auth {

class FailureLimiter {
 public:
  struct Options {
    int max_failures = 20;  // allowed within one window; 0 = no limit
    std::chrono::milliseconds window{60'000};
    std::size_t max_addresses = 65'536;
    // Milliseconds of a monotonic clock; empty = std::chrono::steady_clock.
    std::function<std::int64_t()> now;
  };

  FailureLimiter() : FailureLimiter(Options{}) {}
  explicit FailureLimiter(Options options);

  // Records a failed authentication from `address`. True when it is one too many: more than
  // max_failures within the window, counting this one (the caller answers 429).
  bool RecordFailure(std::string_view address);

  // The number of addresses tracked (tests).
  std::size_t tracked() const;

 private:
  std::int64_t Now() const;
  void Sweep(std::int64_t now);  // mu_ held

  const Options options_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, std::deque<std::int64_t>> failures_;  // guarded by mu_
};

}  // namespace pipy::auth
