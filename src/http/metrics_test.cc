#include "http/metrics.h"

#include <gtest/gtest.h>

namespace pipy::http {
namespace {

bool Has(const std::string& text, const std::string& line) {
  return text.find(line) != std::string::npos;
}

TEST(MetricsTest, EmptyRenderHasFamiliesAndAlwaysPresentCounters) {
  Metrics m;
  std::string text = m.Render();
  EXPECT_TRUE(Has(text, "# TYPE pipy_http_requests_total counter\n"));
  EXPECT_TRUE(Has(text, "# TYPE pipy_http_request_duration_seconds histogram\n"));
  EXPECT_TRUE(Has(text, "# HELP pipy_uploads_total "));
  EXPECT_TRUE(Has(text, "# TYPE pipy_uploads_total counter\n"));
  EXPECT_TRUE(Has(text, "# TYPE pipy_builds_total counter\n"));
  EXPECT_TRUE(Has(text, "pipy_http_request_duration_seconds_bucket{le=\"+Inf\"} 0\n"));
}

TEST(MetricsTest, RequestsCountedByRouteAndStatus) {
  Metrics m;
  m.ObserveRequest("simple_project", 200, 0.0007, 100);
  m.ObserveRequest("simple_project", 200, 0.003, 50);
  m.ObserveRequest("simple_project", 404, 2.0, 5);
  m.ObserveRequest("files", 200, 10.0, 1000);
  std::string text = m.Render();
  EXPECT_TRUE(Has(text, "pipy_http_requests_total{route=\"simple_project\",status=\"200\"} 2\n"));
  EXPECT_TRUE(Has(text, "pipy_http_requests_total{route=\"simple_project\",status=\"404\"} 1\n"));
  EXPECT_TRUE(Has(text, "pipy_http_requests_total{route=\"files\",status=\"200\"} 1\n"));
  // Buckets are cumulative.
  EXPECT_TRUE(Has(text, "pipy_http_request_duration_seconds_bucket{le=\"0.0005\"} 0\n"));
  EXPECT_TRUE(Has(text, "pipy_http_request_duration_seconds_bucket{le=\"0.001\"} 1\n"));
  EXPECT_TRUE(Has(text, "pipy_http_request_duration_seconds_bucket{le=\"0.005\"} 2\n"));
  EXPECT_TRUE(Has(text, "pipy_http_request_duration_seconds_bucket{le=\"2.5\"} 3\n"));
  EXPECT_TRUE(Has(text, "pipy_http_request_duration_seconds_bucket{le=\"+Inf\"} 4\n"));
  EXPECT_TRUE(Has(text, "pipy_http_request_duration_seconds_count 4\n"));
  EXPECT_TRUE(Has(text, "pipy_http_request_duration_seconds_sum 12.0037\n"));
  EXPECT_TRUE(Has(text, "pipy_http_response_bytes_total 1155\n"));
}

TEST(MetricsTest, IncrementedCountersWithEscapedLabels) {
  Metrics m;
  m.Increment("pipy_uploads_total", "result", "created");
  m.Increment("pipy_uploads_total", "result", "created");
  m.Increment("pipy_uploads_total", "result", "conflict");
  m.Increment("pipy_custom_total", "kind", "a\"b");
  std::string text = m.Render();
  EXPECT_TRUE(Has(text, "pipy_uploads_total{result=\"created\"} 2\n"));
  EXPECT_TRUE(Has(text, "pipy_uploads_total{result=\"conflict\"} 1\n"));
  EXPECT_TRUE(Has(text, "# TYPE pipy_custom_total counter\n"));
  EXPECT_TRUE(Has(text, "pipy_custom_total{kind=\"a\\\"b\"} 1\n"));
  // The HELP/TYPE lines of a family appear once.
  EXPECT_EQ(text.find("# TYPE pipy_uploads_total"), text.rfind("# TYPE pipy_uploads_total"));
}

}  // namespace
}  // namespace pipy::http
