// Prometheus text exposition format 0.0.4:
// https://prometheus.io/docs/instrumenting/exposition_formats/
#include "http/metrics.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <iterator>
#include <vector>

namespace pipy::http {

namespace {

constexpr double kBucketBounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                    0.1,    0.25,  0.5,    1,     2.5};

// Counters that are always rendered (with their HELP/TYPE lines), even before the first
// increment, so dashboards and alerts see the series exist; those with one label start
// with every value of it at 0 (a rate() or an alert on a series needs the series).
struct KnownCounter {
  std::string_view name;
  std::string_view help;
  std::string_view label;  // empty: no series before the first increment
  std::array<std::string_view, 3> values;
};
constexpr KnownCounter kKnownCounters[] = {
    {"pipy_uploads_total", "Uploads by result.", "result", {"created", "identical", "rejected"}},
    // The public contract's series, by status alone (what existing dashboards query).
    {"pipy_builds_total", "Module builds by final status.", "status",
     {"passed", "failed", "skipped"}},
    {"pipy_builds_by_format_total", "Module builds by format (python, npm) and final status.",
     "", {}},
};

// Label values escape backslash, double quote and newline.
void AppendLabelValue(std::string& out, std::string_view value) {
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
}

// `a="x",b="y"`: the labels sorted by name (the last of a name given twice wins), values
// escaped. The same label set gives the same text whatever order the caller used.
std::string RenderLabels(std::initializer_list<Metrics::Label> labels) {
  std::vector<Metrics::Label> sorted(labels);
  std::stable_sort(
      sorted.begin(), sorted.end(),
      [](const Metrics::Label& a, const Metrics::Label& b) { return a.name < b.name; });
  std::string out;
  for (std::size_t i = 0; i < sorted.size(); ++i) {
    if (i + 1 < sorted.size() && sorted[i + 1].name == sorted[i].name) {
      continue;  // a later value of the same name replaces this one
    }
    if (!out.empty()) {
      out += ',';
    }
    out += sorted[i].name;
    out += "=\"";
    AppendLabelValue(out, sorted[i].value);
    out += '"';
  }
  return out;
}

std::string_view HelpFor(std::string_view name) {
  for (const KnownCounter& k : kKnownCounters) {
    if (k.name == name) {
      return k.help;
    }
  }
  return "Counter.";
}

}  // namespace

void Metrics::ObserveRequest(std::string_view route, int status, double seconds,
                             std::uint64_t bytes_sent) {
  static_assert(std::size(kBucketBounds) + 1 == kBuckets);
  int bucket = 0;
  while (bucket < kBuckets - 1 && seconds > kBucketBounds[bucket]) {
    ++bucket;
  }
  std::lock_guard lock(mu_);
  auto it = requests_.find(route);
  if (it == requests_.end()) {
    it = requests_.emplace(std::string(route), std::map<int, std::uint64_t>()).first;
  }
  ++it->second[status];
  ++latency_buckets_[bucket];
  ++latency_count_;
  latency_sum_ += seconds;
  bytes_sent_ += bytes_sent;
}

void Metrics::Increment(std::string_view name, std::string_view label, std::string_view value) {
  Increment(name, {Label{label, value}});
}

void Metrics::Increment(std::string_view name, std::initializer_list<Label> labels) {
  std::string series = RenderLabels(labels);
  std::lock_guard lock(mu_);
  auto n = counters_.find(name);
  if (n == counters_.end()) {
    n = counters_.emplace(std::string(name), decltype(n->second)()).first;
  }
  ++n->second[std::move(series)];
}

std::string Metrics::Render() const {
  std::string out;
  out.reserve(4096);
  std::lock_guard lock(mu_);

  out += "# HELP pipy_http_requests_total HTTP requests by route and status.\n";
  out += "# TYPE pipy_http_requests_total counter\n";
  for (const auto& [route, by_status] : requests_) {
    for (const auto& [status, n] : by_status) {
      out += "pipy_http_requests_total{route=\"";
      AppendLabelValue(out, route);
      fmt::format_to(std::back_inserter(out), "\",status=\"{}\"}} {}\n", status, n);
    }
  }

  out += "# HELP pipy_http_request_duration_seconds HTTP request latency.\n";
  out += "# TYPE pipy_http_request_duration_seconds histogram\n";
  std::uint64_t cumulative = 0;
  for (int i = 0; i < kBuckets; ++i) {
    cumulative += latency_buckets_[i];
    if (i < kBuckets - 1) {
      fmt::format_to(std::back_inserter(out),
                     "pipy_http_request_duration_seconds_bucket{{le=\"{}\"}} {}\n",
                     kBucketBounds[i], cumulative);
    } else {
      fmt::format_to(std::back_inserter(out),
                     "pipy_http_request_duration_seconds_bucket{{le=\"+Inf\"}} {}\n", cumulative);
    }
  }
  fmt::format_to(std::back_inserter(out), "pipy_http_request_duration_seconds_sum {}\n",
                 latency_sum_);
  fmt::format_to(std::back_inserter(out), "pipy_http_request_duration_seconds_count {}\n",
                 latency_count_);

  out += "# HELP pipy_http_response_bytes_total HTTP response body bytes sent.\n";
  out += "# TYPE pipy_http_response_bytes_total counter\n";
  fmt::format_to(std::back_inserter(out), "pipy_http_response_bytes_total {}\n", bytes_sent_);

  auto render_counter = [&out](std::string_view name, const auto* series) {
    fmt::format_to(std::back_inserter(out), "# HELP {} {}\n# TYPE {} counter\n", name,
                   HelpFor(name), name);
    if (series == nullptr) {
      return;
    }
    for (const auto& [labels, n] : *series) {
      if (labels.empty()) {
        fmt::format_to(std::back_inserter(out), "{} {}\n", name, n);
      } else {
        fmt::format_to(std::back_inserter(out), "{}{{{}}} {}\n", name, labels, n);
      }
    }
  };
  for (const KnownCounter& k : kKnownCounters) {
    auto it = counters_.find(k.name);
    if (k.label.empty()) {
      render_counter(k.name, it == counters_.end() ? nullptr : &it->second);
      continue;
    }
    std::map<std::string, std::uint64_t, std::less<>> series;
    for (std::string_view value : k.values) {
      series[RenderLabels({{k.label, value}})] = 0;
    }
    if (it != counters_.end()) {
      for (const auto& [labels, n] : it->second) {
        series[labels] = n;
      }
    }
    render_counter(k.name, &series);
  }
  for (const auto& [name, series] : counters_) {
    bool known = false;
    for (const KnownCounter& k : kKnownCounters) {
      known = known || k.name == name;
    }
    if (!known) {
      render_counter(name, &series);
    }
  }
  return out;
}

}  // namespace pipy::http
