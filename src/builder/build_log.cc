#include "builder/build_log.h"

namespace pipy::builder {

namespace {
constexpr std::size_t kFlushBytes = 8 * 1024;
constexpr auto kFlushInterval = std::chrono::milliseconds(250);
}  // namespace

void BuildLog::Write(std::string_view text) {
  pending_ += text;
  if (pending_.size() >= kFlushBytes ||
      (!pending_.empty() && std::chrono::steady_clock::now() - last_flush_ >= kFlushInterval)) {
    Flush();
  }
}

void BuildLog::Flush() {
  last_flush_ = std::chrono::steady_clock::now();
  if (pending_.empty()) {
    return;
  }
  (void)queue_.AppendLog(id_, pending_, max_bytes_);
  pending_.clear();
}

}  // namespace pipy::builder
