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
  // The contract's series exist at 0 before the first upload or build.
  for (const char* series :
       {"pipy_uploads_total{result=\"created\"} 0\n", "pipy_uploads_total{result=\"identical\"} 0\n",
        "pipy_uploads_total{result=\"rejected\"} 0\n", "pipy_builds_total{status=\"passed\"} 0\n",
        "pipy_builds_total{status=\"failed\"} 0\n", "pipy_builds_total{status=\"skipped\"} 0\n"}) {
    EXPECT_TRUE(Has(text, series)) << series << text;
  }
}

TEST(MetricsTest, ASeededSeriesCountsFromZero) {
  Metrics m;
  m.Increment("pipy_builds_total", "status", "failed");
  std::string text = m.Render();
  EXPECT_TRUE(Has(text, "pipy_builds_total{status=\"failed\"} 1\n")) << text;
  EXPECT_TRUE(Has(text, "pipy_builds_total{status=\"passed\"} 0\n")) << text;
  EXPECT_EQ(text.find("pipy_builds_total{status=\"failed\"} 0"), std::string::npos) << text;
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

TEST(MetricsTest, SeveralLabelsRenderSortedByNameWhateverTheCallOrder) {
  Metrics m;
  m.Increment("pipy_builds_by_format_total", {{"format", "npm"}, {"status", "passed"}});
  m.Increment("pipy_builds_by_format_total", {{"status", "passed"}, {"format", "npm"}});
  m.Increment("pipy_builds_by_format_total", {{"format", "python"}, {"status", "failed"}});
  std::string text = m.Render();
  EXPECT_TRUE(Has(text, "pipy_builds_by_format_total{format=\"npm\",status=\"passed\"} 2\n"))
      << text;
  EXPECT_TRUE(Has(text, "pipy_builds_by_format_total{format=\"python\",status=\"failed\"} 1\n"))
      << text;
  EXPECT_FALSE(Has(text, "pipy_builds_by_format_total{status="))
      << "one series per label set, labels in name order";
  // Series of a family come in a stable order (by their label text), so two scrapes of the
  // same counts are byte-identical.
  EXPECT_LT(text.find("format=\"npm\""), text.find("format=\"python\""));
  EXPECT_EQ(text, m.Render());
  EXPECT_TRUE(Has(text, "# HELP pipy_builds_by_format_total Module builds by format (python, "
                        "npm) and "
                        "final status.\n"));
  EXPECT_EQ(text.find("# TYPE pipy_builds_by_format_total"),
            text.rfind("# TYPE pipy_builds_by_format_total"));
}

TEST(MetricsTest, SeveralLabelsEscapeEachValue) {
  Metrics m;
  m.Increment("pipy_custom_total", {{"b", "new\nline"}, {"a", "back\\slash \"quoted\""}});
  std::string text = m.Render();
  EXPECT_TRUE(
      Has(text, "pipy_custom_total{a=\"back\\\\slash \\\"quoted\\\"\",b=\"new\\nline\"} 1\n"))
      << text;
}

TEST(MetricsTest, SingleLabelAndLabelSetCallsShareSeries) {
  Metrics m;
  m.Increment("pipy_uploads_total", "result", "created");
  m.Increment("pipy_uploads_total", {{"result", "created"}});
  m.Increment("pipy_custom_total", {});
  m.Increment("pipy_custom_total", {{"kind", "old"}, {"kind", "new"}});
  std::string text = m.Render();
  EXPECT_TRUE(Has(text, "pipy_uploads_total{result=\"created\"} 2\n")) << text;
  EXPECT_TRUE(Has(text, "\npipy_custom_total 1\n")) << text;
  EXPECT_TRUE(Has(text, "pipy_custom_total{kind=\"new\"} 1\n")) << "the last value of a name wins";
  EXPECT_FALSE(Has(text, "kind=\"old\""));
}

}  // namespace
}  // namespace pipy::http
