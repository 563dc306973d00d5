// BuildLog: a job's log writer. Buffers output and appends it to the BuildQueue in chunks
// (when 8 KiB are pending or 250 ms have passed), so a running build's log grows visibly on
// every node without one database write per line. Not thread-safe (one per job).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "catalog/build_queue.h"

namespace pipy::builder {

class BuildLog {
 public:
  BuildLog(catalog::BuildQueue& queue, std::int64_t build_id, std::uint64_t max_bytes)
      : queue_(queue), id_(build_id), max_bytes_(max_bytes) {}
  ~BuildLog() { Flush(); }
  BuildLog(const BuildLog&) = delete;
  BuildLog& operator=(const BuildLog&) = delete;

  // Adds `text` (may be empty: then only flushes when due).
  void Write(std::string_view text);
  // Appends what is pending. A failing queue loses that part of the log, not the build.
  void Flush();

 private:
  catalog::BuildQueue& queue_;
  const std::int64_t id_;
  const std::uint64_t max_bytes_;
  std::string pending_;
  std::chrono::steady_clock::time_point last_flush_ = std::chrono::steady_clock::now();
};

}  // namespace pipy::builder
