#include "web/markdown.h"

#include <gtest/gtest.h>

namespace pipy::web {
namespace {

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

TEST(MarkdownTest, RendersBasicMarkdown) {
  std::string html = RenderMarkdown("# Title\n\nSome *text* and `code`.\n");
  EXPECT_TRUE(Contains(html, "<h1>Title</h1>")) << html;
  EXPECT_TRUE(Contains(html, "<em>text</em>")) << html;
  EXPECT_TRUE(Contains(html, "<code>code</code>")) << html;
}

TEST(MarkdownTest, RendersTables) {
  std::string html = RenderMarkdown("| a | b |\n|---|---|\n| 1 | 2 |\n");
  EXPECT_TRUE(Contains(html, "<table>")) << html;
  EXPECT_TRUE(Contains(html, "<th>a</th>")) << html;
  EXPECT_TRUE(Contains(html, "<td>2</td>")) << html;
}

TEST(MarkdownTest, RendersAutolinksAndStrikethrough) {
  std::string html = RenderMarkdown("See https://example.com/x and ~~old~~.\n");
  EXPECT_TRUE(Contains(html, "<a href=\"https://example.com/x\">")) << html;
  EXPECT_TRUE(Contains(html, "<del>old</del>")) << html;
}

TEST(MarkdownTest, DropsRawHtml) {
  std::string html = RenderMarkdown(
      "<script>alert(1)</script>\n\nText <img src=x onerror=alert(2)> more\n\n"
      "<iframe src=\"https://evil\"></iframe>\n");
  EXPECT_FALSE(Contains(html, "<script")) << html;
  EXPECT_FALSE(Contains(html, "<img")) << html;
  EXPECT_FALSE(Contains(html, "<iframe")) << html;
  EXPECT_FALSE(Contains(html, "onerror")) << html;
  EXPECT_TRUE(Contains(html, "Text")) << html;
}

TEST(MarkdownTest, DropsJavascriptLinks) {
  std::string html = RenderMarkdown(
      "[click](javascript:alert(1)) [x](JaVaScRiPt:alert(2)) ![i](javascript:alert(3))\n"
      "<javascript:alert(4)>\n");
  // The URLs are emptied; the text of the autolink may stay, as inert text.
  EXPECT_FALSE(Contains(html, "=\"javascript:")) << html;
  EXPECT_FALSE(Contains(html, "=\"JaVaScRiPt:")) << html;
  EXPECT_EQ(html.find("javascript:alert(1)"), std::string::npos) << html;
  EXPECT_EQ(html.find("javascript:alert(3)"), std::string::npos) << html;
  EXPECT_TRUE(Contains(html, "<a href=\"\">click</a>")) << html;
}

TEST(MarkdownTest, KeepsSafeLinks) {
  std::string html = RenderMarkdown("[docs](https://docs.example.com/a?b=1&c=2)\n");
  EXPECT_TRUE(Contains(html, "<a href=\"https://docs.example.com/a?b=1&amp;c=2\">docs</a>"))
      << html;
}

TEST(DescriptionTest, ChoosesRendererByContentType) {
  EXPECT_TRUE(Contains(RenderDescription("# T", "text/markdown"), "<h1>T</h1>"));
  EXPECT_TRUE(Contains(RenderDescription("# T", "Text/Markdown; charset=UTF-8; variant=GFM"),
                       "<h1>T</h1>"));
  EXPECT_EQ(RenderDescription("# T <b>", "text/x-rst"), "<pre># T &lt;b&gt;</pre>");
  EXPECT_EQ(RenderDescription("# T", ""), "<pre># T</pre>");
  EXPECT_EQ(RenderDescription("", "text/markdown"), "");
}

}  // namespace
}  // namespace pipy::web
