#include "auth/failure_limiter.h"

#include <algorithm>

namespace pipy::auth {

FailureLimiter::FailureLimiter(Options options) : options_(std::move(options)) {}

std::int64_t FailureLimiter::Now() const {
  if (options_.now) {
    return options_.now();
  }
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void FailureLimiter::Sweep(std::int64_t now) {
  const std::int64_t oldest = now - options_.window.count();
  std::erase_if(failures_, [oldest](const auto& entry) {
    return entry.second.empty() || entry.second.back() <= oldest;
  });
  if (failures_.size() >= options_.max_addresses) {
    failures_.clear();
  }
}

bool FailureLimiter::RecordFailure(std::string_view address) {
  if (options_.max_failures <= 0) {
    return false;  // no limit configured
  }
  const std::int64_t now = Now();
  std::lock_guard lock(mu_);
  auto it = failures_.find(std::string(address));
  if (it == failures_.end()) {
    if (failures_.size() >= options_.max_addresses) {
      Sweep(now);
    }
    it = failures_.emplace(std::string(address), std::deque<std::int64_t>()).first;
  }
  std::deque<std::int64_t>& times = it->second;
  const std::int64_t oldest = now - options_.window.count();
  while (!times.empty() && times.front() <= oldest) {
    times.pop_front();
  }
  // Only the newest max_failures are kept: a refused attempt still counts, so an address
  // that keeps guessing stays refused until it stops for a whole window.
  const bool over = static_cast<int>(times.size()) >= options_.max_failures;
  times.push_back(now);
  while (static_cast<int>(times.size()) > std::max(options_.max_failures, 1)) {
    times.pop_front();
  }
  return over;
}

std::size_t FailureLimiter::tracked() const {
  std::lock_guard lock(mu_);
  return failures_.size();
}

}  // namespace pipy::auth
