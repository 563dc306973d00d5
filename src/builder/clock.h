// Clock: the builder's source of time, injected so that tests control it.
#pragma once

#include <cstdint>

namespace pipy::builder {

class Clock {
 public:
  virtual ~Clock() = default;
  // Unix epoch milliseconds.
  virtual std::int64_t NowMs() = 0;
};

// The system's wall clock. Thread-safe.
class SystemClock final : public Clock {
 public:
  std::int64_t NowMs() override;
};

}  // namespace pipy::builder
