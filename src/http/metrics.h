// Prometheus metrics for the whole process, rendered in the text exposition format.
// Thread-safe; counters are cheap enough for every request.
#pragma once

#include <atomic>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

namespace pipy::http {

class Metrics {
 public:
  // One finished request: counted by route and status, its latency into the histogram,
  // its body bytes into bytes sent.
  void ObserveRequest(std::string_view route, int status, double seconds, std::uint64_t bytes_sent);
  // One label of a counter series: `name="value"`. The name must be a valid Prometheus
  // label name ([a-zA-Z_][a-zA-Z0-9_]*, chosen by code, never by users); the value may be
  // anything (it is escaped when rendered).
  struct Label {
    std::string_view name;
    std::string_view value;
  };

  // Adds 1 to `name{label="value"}`, e.g. ("pipy_uploads_total", "result", "created").
  void Increment(std::string_view name, std::string_view label, std::string_view value);
  // Adds 1 to the series of `name` with all of `labels`, e.g.
  //   Increment("pipy_builds_total", {{"format", "npm"}, {"status", "passed"}}).
  // The series is identified by its label set, whatever the order the caller lists them in:
  // labels are rendered sorted by name. A label named twice keeps its last value. No labels
  // at all is the bare series `name`.
  void Increment(std::string_view name, std::initializer_list<Label> labels);
  // Prometheus text format (version 0.0.4).
  std::string Render() const;

 private:
  static constexpr int kBuckets = 13;  // upper bounds in metrics.cc; the last is +Inf

  mutable std::mutex mu_;
  // route -> status -> count. Transparent comparator: lookups by string_view do not
  // allocate once a route has been seen.
  std::map<std::string, std::map<int, std::uint64_t>, std::less<>> requests_;
  // metric name -> rendered label set (`a="x",b="y"`, sorted by label name, values
  // escaped; empty for no labels) -> count. Keying by the rendered text makes the series'
  // order in Render stable and Render itself a copy.
  std::map<std::string, std::map<std::string, std::uint64_t, std::less<>>, std::less<>> counters_;
  std::uint64_t latency_buckets_[kBuckets] = {};  // non-cumulative; cumulated in Render
  std::uint64_t latency_count_ = 0;
  double latency_sum_ = 0;
  std::uint64_t bytes_sent_ = 0;
};

}  // namespace pipy::http
