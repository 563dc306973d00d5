#include "web/readme_renderer.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

namespace pipy::web {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono_literals::operator""ms;

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

constexpr const char* kFallbackNote = "shown as plain text";

// A renderer whose Markdown step is `fn`.
ReadmeOptions Fake(std::function<Result<std::string>(std::string_view)> fn) {
  ReadmeOptions o;
  o.render_markdown = std::move(fn);
  return o;
}

TEST(ReadmeRendererTest, RendersMarkdownOncePerContent) {
  ReadmeRenderer r(Fake([](std::string_view md) -> Result<std::string> {
    return "<p>" + std::string(md) + "</p>";
  }));
  EXPECT_EQ(r.Render("a", "text/markdown").html, "<p>a</p>");
  EXPECT_EQ(r.Render("a", "text/markdown; charset=UTF-8").html, "<p>a</p>");
  EXPECT_EQ(r.markdown_renders(), 1u);
  EXPECT_EQ(r.Render("b", "text/markdown").html, "<p>b</p>");
  EXPECT_EQ(r.markdown_renders(), 2u);
}

TEST(ReadmeRendererTest, OtherTypesAreEscapedWithoutRendering) {
  ReadmeRenderer r(Fake([](std::string_view) -> Result<std::string> {
    return std::string("unused");
  }));
  EXPECT_EQ(r.Render("# T <b>", "text/x-rst").html, "<pre># T &lt;b&gt;</pre>");
  EXPECT_EQ(r.Render("# T", "").html, "<pre># T</pre>");
  EXPECT_EQ(r.Render("", "text/markdown").html, "");
  EXPECT_EQ(r.markdown_renders(), 0u);
}

TEST(ReadmeRendererTest, FailedRenderShowsEscapedTextAndIsRemembered) {
  ReadmeRenderer r(Fake([](std::string_view) -> Result<std::string> {
    return Status(StatusCode::kDeadlineExceeded, "too slow");
  }));
  RenderedReadme out = r.Render("<script>x</script> ![[]()", "text/markdown");
  EXPECT_TRUE(out.lasting);
  EXPECT_TRUE(Contains(out.html, kFallbackNote)) << out.html;
  EXPECT_TRUE(Contains(out.html, "<pre>&lt;script&gt;x&lt;/script&gt; ![[]()</pre>")) << out.html;
  EXPECT_FALSE(Contains(out.html, "<script>"));
  // The same input would time out again: not retried on the next page build.
  EXPECT_EQ(r.Render("<script>x</script> ![[]()", "text/markdown").html, out.html);
  EXPECT_EQ(r.markdown_renders(), 1u);
}

TEST(ReadmeRendererTest, PassingFailureIsShownButNotRemembered) {
  int calls = 0;
  ReadmeRenderer r(Fake([&](std::string_view) -> Result<std::string> {
    ++calls;
    if (calls == 1) {
      return Unavailable("no processes left");
    }
    return std::string("<p>ok</p>");
  }));
  RenderedReadme first = r.Render("ok", "text/markdown");
  EXPECT_FALSE(first.lasting);
  EXPECT_TRUE(Contains(first.html, kFallbackNote));
  RenderedReadme second = r.Render("ok", "text/markdown");
  EXPECT_TRUE(second.lasting);
  EXPECT_EQ(second.html, "<p>ok</p>");
}

TEST(ReadmeRendererTest, BusySlotsGiveAPassingFallback) {
  std::atomic<bool> inside{false};
  std::atomic<bool> release{false};
  ReadmeOptions o = Fake([&](std::string_view) -> Result<std::string> {
    inside = true;
    while (!release.load()) {
      std::this_thread::sleep_for(1ms);
    }
    return std::string("<p>slow</p>");
  });
  o.max_concurrent_renders = 1;
  o.child.timeout = 200ms;
  ReadmeRenderer r(o);
  std::thread busy([&] { EXPECT_EQ(r.Render("slow", "text/markdown").html, "<p>slow</p>"); });
  while (!inside.load()) {
    std::this_thread::sleep_for(1ms);
  }
  auto start = Clock::now();
  RenderedReadme waited = r.Render("other", "text/markdown");
  EXPECT_LT(Clock::now() - start, 1000ms);
  EXPECT_FALSE(waited.lasting);
  EXPECT_TRUE(Contains(waited.html, "<pre>other</pre>"));
  release = true;
  busy.join();
}

TEST(ReadmeRendererTest, CacheIsBounded) {
  ReadmeOptions o = Fake([](std::string_view md) -> Result<std::string> {
    return std::string(md);
  });
  o.cache_bytes = 3 * (64 + 1000);  // three entries (sha256 hex key + 1000 bytes)
  ReadmeRenderer r(o);
  auto readme = [](char c) { return std::string(1000, c); };
  for (char c : {'a', 'b', 'c'}) {
    r.Render(readme(c), "text/markdown");
  }
  EXPECT_EQ(r.markdown_renders(), 3u);
  r.Render(readme('a'), "text/markdown");  // a is now the most recently used
  EXPECT_EQ(r.markdown_renders(), 3u);
  r.Render(readme('d'), "text/markdown");  // evicts b
  EXPECT_EQ(r.markdown_renders(), 4u);
  r.Render(readme('a'), "text/markdown");
  r.Render(readme('c'), "text/markdown");
  EXPECT_EQ(r.markdown_renders(), 4u);
  r.Render(readme('b'), "text/markdown");
  EXPECT_EQ(r.markdown_renders(), 5u);
}

// The real thing: the default renderer's child (this test binary, test_main.cc).
TEST(ReadmeRendererTest, HostileMarkdownIsShownAsTextWithinTheBudget) {
  ReadmeOptions o;
  o.child.timeout = 1000ms;
  ReadmeRenderer r(o);
  std::string hostile;
  for (int i = 0; i < 40000; ++i) {
    hostile += "![[]()";
  }
  hostile += "<b>";
  auto start = Clock::now();
  RenderedReadme out = r.Render(hostile, "text/markdown");
  EXPECT_LT(Clock::now() - start, 2000ms);
  EXPECT_TRUE(Contains(out.html, kFallbackNote));
  EXPECT_TRUE(Contains(out.html, "![[]()![[]()"));
  EXPECT_TRUE(Contains(out.html, "&lt;b&gt;</pre>"));
  start = Clock::now();
  EXPECT_EQ(r.Render(hostile, "text/markdown").html, out.html);
  EXPECT_LT(Clock::now() - start, 100ms);
  EXPECT_EQ(r.markdown_renders(), 1u);
  EXPECT_EQ(r.Render("# Hi", "text/markdown").html, "<h1>Hi</h1>\n");
}

}  // namespace
}  // namespace pipy::web
