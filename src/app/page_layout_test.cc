#include "app/page_layout.h"
#include "app/static_assets.h"

#include <gtest/gtest.h>

#include <string>

namespace pipy::app {
namespace {

TEST(FormatTest, SizesAreHumanReadable) {
  EXPECT_EQ(FormatSize(0), "0 B");
  EXPECT_EQ(FormatSize(1023), "1023 B");
  EXPECT_EQ(FormatSize(1024), "1.0 KiB");
  EXPECT_EQ(FormatSize(1536), "1.5 KiB");
  EXPECT_EQ(FormatSize(1024 * 1024 - 1), "1.0 MiB");
  EXPECT_EQ(FormatSize(5ull * 1024 * 1024 * 1024 + 300ull * 1024 * 1024), "5.3 GiB");
}

TEST(FormatTest, TimesAreUtc) {
  EXPECT_EQ(FormatUtc(1714566840000), "2024-05-01 12:34 UTC");
  EXPECT_EQ(FormatUtc(0), "-");
}

TEST(FormatTest, PathSegmentsArePercentEncoded) {
  EXPECT_EQ(EncodePathSegment("acme_logger-1.0+local.tar.gz"), "acme_logger-1.0%2Blocal.tar.gz");
  EXPECT_EQ(EncodePathSegment("a/b\"c"), "a%2Fb%22c");
}

TEST(LayoutTest, HasNavigationAndEscapesTitle) {
  std::string html = Layout("<x>", "<p>body</p>");
  EXPECT_NE(html.find("<title>&lt;x&gt; - pipy</title>"), std::string::npos);
  EXPECT_NE(html.find("href=\"/\">Projects</a>"), std::string::npos);
  EXPECT_NE(html.find("href=\"/builds\">Builds</a>"), std::string::npos);
  EXPECT_NE(html.find("href=\"/help\">Help</a>"), std::string::npos);
  EXPECT_NE(html.find("<p>body</p>"), std::string::npos);
  // Its own stylesheet only, never inline style (the pages' CSP has no 'unsafe-inline').
  EXPECT_NE(html.find("<link rel=\"stylesheet\" href=\"" + Stylesheet().path + "\">"),
            std::string::npos);
  EXPECT_EQ(html.find("<style"), std::string::npos);
  EXPECT_EQ(html.find("://"), std::string::npos);  // nothing from another site
}

}  // namespace
}  // namespace pipy::app
