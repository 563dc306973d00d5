#include "web/markdown.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "web/markdown_child.h"

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

// --- the child process (the test binary is the child: test_main.cc) ---------------------

using Clock = std::chrono::steady_clock;
using std::chrono_literals::operator""ms;

std::string Repeat(std::string_view s, std::size_t n) {
  std::string out;
  out.reserve(s.size() * n);
  for (std::size_t i = 0; i < n; ++i) {
    out += s;
  }
  return out;
}

// Inputs on which cmark-gfm 0.29 (Debian 12) needs seconds to minutes or gigabytes: each
// 240 KB. In process, the first takes ~15 s, the second ~10 s, the third aborts at 2 GiB.
std::string HostileImages() { return Repeat("![[]()", 40000); }
std::string HostileWideHeader() {
  return Repeat("|", 80000) + "\n" + Repeat("|-", 79999) + "|\n";
}
std::string HostileEmptyRows() {
  return Repeat("|a", 1000) + "|\n" + Repeat("|-", 1000) + "|\n" + Repeat("||\n", 78000);
}

// A "child" that ignores the appended limits: /bin/sh -c SCRIPT sh CPU MEM IN.
MarkdownChildOptions Shell(std::string script) {
  MarkdownChildOptions o;
  o.executable = "/bin/sh";
  o.args = {"-c", std::move(script), "sh"};
  return o;
}

TEST(MarkdownChildTest, RendersLikeInProcess) {
  const std::string md = "# Title\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n<script>x</script>\n";
  Result<std::string> html = RenderMarkdownInChild(md, MarkdownChildOptions{});
  ASSERT_TRUE(html.has_value()) << html.error().ToString();
  EXPECT_EQ(*html, RenderMarkdown(md));
  EXPECT_TRUE(Contains(*html, "<td>2</td>")) << *html;
  EXPECT_FALSE(Contains(*html, "<script")) << *html;
}

TEST(MarkdownChildTest, EmptyInputGivesEmptyOutput) {
  Result<std::string> html = RenderMarkdownInChild("", MarkdownChildOptions{});
  ASSERT_TRUE(html.has_value()) << html.error().ToString();
  EXPECT_EQ(*html, "");
}

TEST(MarkdownChildTest, SlowChildIsKilledAtTheTimeout) {
  MarkdownChildOptions o = Shell("sleep 30");
  o.timeout = 300ms;
  auto start = Clock::now();
  Result<std::string> html = RenderMarkdownInChild("x", o);
  ASSERT_FALSE(html.has_value());
  EXPECT_EQ(html.error().code(), StatusCode::kDeadlineExceeded);
  EXPECT_LT(Clock::now() - start, 2000ms);
}

TEST(MarkdownChildTest, EndlessOutputIsCutAtTheCap) {
  MarkdownChildOptions o = Shell("yes");
  o.max_output_bytes = 100'000;
  Result<std::string> html = RenderMarkdownInChild("x", o);
  ASSERT_FALSE(html.has_value());
  EXPECT_EQ(html.error().code(), StatusCode::kTooLarge);
}

TEST(MarkdownChildTest, CrashIsAnError) {
  Result<std::string> html = RenderMarkdownInChild("x", Shell("kill -SEGV $$"));
  ASSERT_FALSE(html.has_value());
  EXPECT_EQ(html.error().code(), StatusCode::kInternal);
  html = RenderMarkdownInChild("x", Shell("echo partial; exit 1"));
  ASSERT_FALSE(html.has_value());
  EXPECT_EQ(html.error().code(), StatusCode::kInternal);
}

TEST(MarkdownChildTest, MissingProgramIsUnavailable) {
  MarkdownChildOptions o;
  o.executable = "/nonexistent/pipy";
  Result<std::string> html = RenderMarkdownInChild("x", o);
  ASSERT_FALSE(html.has_value());
  EXPECT_EQ(html.error().code(), StatusCode::kUnavailable);
}

TEST(MarkdownChildTest, TooMuchInputIsRefusedWithoutStarting) {
  MarkdownChildOptions o;
  o.max_input_bytes = 10;
  o.executable = "/nonexistent/pipy";  // proves no child is started
  Result<std::string> html = RenderMarkdownInChild(std::string(11, 'a'), o);
  ASSERT_FALSE(html.has_value());
  EXPECT_EQ(html.error().code(), StatusCode::kTooLarge);
}

TEST(MarkdownChildTest, QuadraticImagesStopAtTheBudget) {
  MarkdownChildOptions o;
  o.timeout = 1000ms;
  auto start = Clock::now();
  Result<std::string> html = RenderMarkdownInChild(HostileImages(), o);
  auto elapsed = Clock::now() - start;
  ASSERT_FALSE(html.has_value());
  EXPECT_EQ(html.error().code(), StatusCode::kDeadlineExceeded);
  EXPECT_LT(elapsed, 2000ms);
}

TEST(MarkdownChildTest, QuadraticWideHeaderStopsAtTheBudget) {
  MarkdownChildOptions o;
  o.timeout = 1000ms;
  auto start = Clock::now();
  Result<std::string> html = RenderMarkdownInChild(HostileWideHeader(), o);
  ASSERT_FALSE(html.has_value());
  EXPECT_EQ(html.error().code(), StatusCode::kDeadlineExceeded);
  EXPECT_LT(Clock::now() - start, 2000ms);
}

TEST(MarkdownChildTest, PaddedEmptyRowsStopAtALimit) {
  // ~78 million empty cells: the memory limit, the output cap or the clock ends it.
  MarkdownChildOptions o;
  o.timeout = 1000ms;
  auto start = Clock::now();
  Result<std::string> html = RenderMarkdownInChild(HostileEmptyRows(), o);
  ASSERT_FALSE(html.has_value());
  EXPECT_LT(Clock::now() - start, 2000ms);
}

}  // namespace
}  // namespace pipy::web
