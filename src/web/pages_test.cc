#include "web/pages.h"

#include <gtest/gtest.h>

#include <string>

#include "app/static_assets.h"

namespace pipy::web {
namespace {

const std::string kSha = std::string(64, 'a');

std::size_t Count(const std::string& haystack, const std::string& needle) {
  std::size_t n = 0;
  for (std::size_t at = haystack.find(needle); at != std::string::npos;
       at = haystack.find(needle, at + 1)) {
    ++n;
  }
  return n;
}

catalog::FileRecord File(std::string version, std::string filename, std::uint64_t size) {
  catalog::FileRecord f;
  f.project = "acme-logger";
  f.version = std::move(version);
  f.filename = std::move(filename);
  f.size = size;
  f.sha256 = kSha;
  f.upload_time_ms = 1714566840000;
  return f;
}

catalog::ReleaseRecord Release(std::string version, std::string description,
                               std::string content_type = "text/markdown") {
  catalog::ReleaseRecord r;
  r.project = "acme-logger";
  r.version = std::move(version);
  r.metadata.display_name = "Acme-Logger";
  r.metadata.summary = "Logs to analytics";
  r.metadata.description = std::move(description);
  r.metadata.attributes["description_content_type"] = std::move(content_type);
  r.metadata.attributes["requires_python"] = ">=3.9";
  return r;
}

index::ProjectView BasicView() {
  index::ProjectView v;
  v.project.name = "acme-logger";
  v.project.display_name = "Acme-Logger";
  v.releases = {Release("2.0", "# New readme"), Release("1.0", "# Old readme")};
  v.files = {File("2.0", "acme_logger-2.0-py3-none-any.whl", 1536),
             File("2.0", "acme_logger-2.0.tar.gz", 3 * 1024 * 1024),
             File("1.0", "acme_logger-1.0.tar.gz", 512)};
  return v;
}

// Layout and the formatting helpers are tested in app/page_layout_test.cc.

TEST(ProjectPageTest, ListsVersionsNewestFirstWithFiles) {
  std::string html = RenderProjectPage(BasicView());
  std::size_t v2 = html.find("<h3>2.0");
  std::size_t v1 = html.find("<h3>1.0");
  ASSERT_NE(v2, std::string::npos);
  ASSERT_NE(v1, std::string::npos);
  EXPECT_LT(v2, v1);
  EXPECT_NE(html.find("<a href=\"/files/" + kSha + "/acme_logger-2.0-py3-none-any.whl\">"),
            std::string::npos);
  EXPECT_NE(html.find(">1.5 KiB<"), std::string::npos);
  EXPECT_NE(html.find(">3.0 MiB<"), std::string::npos);
  EXPECT_NE(html.find(">512 B<"), std::string::npos);
  EXPECT_NE(html.find("2024-05-01 12:34 UTC"), std::string::npos);
  EXPECT_NE(html.find("&gt;=3.9"), std::string::npos);
  EXPECT_NE(html.find("Logs to analytics"), std::string::npos);
  // The 1.0 files sit in the 1.0 section, after its heading.
  EXPECT_GT(html.find("acme_logger-1.0.tar.gz"), v1);
}

TEST(ProjectPageTest, BuiltFilesSayWhereTheyCameFrom) {
  index::ProjectView v = BasicView();
  v.files[0].provenance =
      catalog::Provenance{"mono", "0123456789abcdef0123456789abcdef01234567", "logger", 42, "passed"};
  std::string html = RenderProjectPage(v);
  EXPECT_NE(html.find("built from <code>0123456789ab</code> by <a href=\"/builds/42\">build 42"
                      "</a>, tests passed"),
            std::string::npos)
      << html;
  EXPECT_EQ(Count(html, "built from"), 1u) << "only the built file has provenance";
}

TEST(ProjectPageTest, YankedReleaseHasBadgeAndReason) {
  index::ProjectView v = BasicView();
  v.releases[0].yanked = true;
  v.releases[0].yanked_reason = "broke <prod>";
  std::string html = RenderProjectPage(v);
  EXPECT_EQ(Count(html, "<span class=\"yanked\">yanked</span>"), 1u);
  EXPECT_NE(html.find("broke &lt;prod&gt;"), std::string::npos);
  EXPECT_EQ(Count(RenderProjectPage(BasicView()), "<span class=\"yanked\">"), 0u);
}

TEST(ProjectPageTest, ReadmeComesFromLatestNonYankedRelease) {
  index::ProjectView v = BasicView();
  EXPECT_NE(RenderProjectPage(v).find("<h1>New readme</h1>"), std::string::npos);
  v.releases[0].yanked = true;
  std::string html = RenderProjectPage(v);
  EXPECT_NE(html.find("<h1>Old readme</h1>"), std::string::npos);
  EXPECT_EQ(html.find("New readme"), std::string::npos);
}

TEST(ProjectPageTest, RstDescriptionIsEscapedText) {
  index::ProjectView v = BasicView();
  v.releases[0] = Release("2.0", "Title\n=====\n\n<script>alert(1)</script>", "text/x-rst");
  std::string html = RenderProjectPage(v);
  EXPECT_NE(html.find("<pre>Title\n=====\n\n&lt;script&gt;alert(1)&lt;/script&gt;</pre>"),
            std::string::npos);
  EXPECT_EQ(html.find("<script>alert"), std::string::npos);
}

TEST(ProjectPageTest, HostileValuesAreEscaped) {
  index::ProjectView v = BasicView();
  v.project.display_name = "<script>alert('name')</script>";
  v.releases[0].metadata.summary = "\"><img src=x onerror=alert(1)>";
  v.releases[0].metadata.attributes["requires_python"] = "<b>3</b>";
  v.releases[0].version = "2.0<i>";
  v.files[0].version = "2.0<i>";
  v.files[1].version = "2.0<i>";
  v.files[0].filename = "evil\"><svg onload=alert(1)>.whl";
  std::string html = RenderProjectPage(v);
  EXPECT_EQ(html.find("<script>alert"), std::string::npos);
  EXPECT_EQ(html.find("<img src=x"), std::string::npos);
  EXPECT_EQ(html.find("<svg"), std::string::npos);
  EXPECT_EQ(html.find("<b>3"), std::string::npos);
  EXPECT_EQ(html.find("<i>"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;alert(&#39;name&#39;)&lt;/script&gt;"), std::string::npos);
  EXPECT_NE(html.find("&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"), std::string::npos);
  // The link target is percent-encoded, the link text escaped.
  EXPECT_NE(html.find("/evil%22%3E%3Csvg%20onload%3Dalert%281%29%3E.whl\">"), std::string::npos);
  EXPECT_NE(html.find(">evil&quot;&gt;&lt;svg onload=alert(1)&gt;.whl</a>"), std::string::npos);
}

std::vector<catalog::ProjectRecord> Projects() {
  std::vector<catalog::ProjectRecord> out(3);
  out[0].name = "acme-logger";
  out[0].display_name = "Acme-Logger";
  out[1].name = "acme-redis";
  out[1].display_name = "acme_redis";
  out[2].name = "packets";
  out[2].display_name = "<Packets>";
  return out;
}

TEST(RootPageTest, ListsEveryProjectWithFilterBox) {
  std::string html = RenderRootPage(Projects(), "");
  EXPECT_NE(html.find("<a href=\"/project/acme-logger/\">Acme-Logger</a>"), std::string::npos);
  EXPECT_NE(html.find("<a href=\"/project/acme-redis/\">acme_redis</a>"), std::string::npos);
  EXPECT_NE(html.find(">&lt;Packets&gt;</a>"), std::string::npos);
  EXPECT_NE(html.find("<input type=\"search\""), std::string::npos);
  EXPECT_NE(html.find("name=\"q\""), std::string::npos);
  // The client-side filter, as a file of its own (the pages' CSP allows no inline script).
  EXPECT_NE(html.find("<script src=\"" + app::FilterScript().path + "\"></script>"),
            std::string::npos);
  EXPECT_EQ(html.find("<script>"), std::string::npos);
  EXPECT_NE(html.find(">3 projects<"), std::string::npos);
}

TEST(RootPageTest, QueryFiltersServerSideCaseInsensitively) {
  std::string html = RenderRootPage(Projects(), "ACME");
  EXPECT_NE(html.find("/project/acme-logger/"), std::string::npos);
  EXPECT_NE(html.find("/project/acme-redis/"), std::string::npos);
  EXPECT_EQ(html.find("/project/packets/"), std::string::npos);
  EXPECT_NE(html.find("2 projects of 3"), std::string::npos);
  // The display name counts too: "acme_redis" matches "_redis", its normalized name does not.
  html = RenderRootPage(Projects(), "_redis");
  EXPECT_NE(html.find("/project/acme-redis/"), std::string::npos);
  EXPECT_EQ(html.find("/project/acme-logger/"), std::string::npos);
}

TEST(RootPageTest, QueryIsEscapedInTheBox) {
  std::string html = RenderRootPage(Projects(), "\"><script>alert(1)</script>");
  EXPECT_EQ(html.find("<script>alert(1)"), std::string::npos);
  EXPECT_NE(html.find("value=\"&quot;&gt;&lt;script&gt;"), std::string::npos);
}

TEST(RootPageTest, LabelsEachRowWithItsFormatAndLinksItsPage) {
  catalog::ProjectRecord npm_package;
  npm_package.format = std::string(catalog::kNpm);
  npm_package.name = "@acme/log";
  catalog::ProjectRecord python_project;
  python_project.name = "acme-logger";
  std::string html = RenderRootPage({npm_package, python_project}, "");
  EXPECT_NE(html.find("<a href=\"/npm-package/@acme/log\">@acme/log</a> <code class=\"format\">"
                      "npm</code>"),
            std::string::npos);
  EXPECT_NE(html.find("<a href=\"/project/acme-logger/\">acme-logger</a> <code class=\"format\">"
                      "python</code>"),
            std::string::npos);
  EXPECT_EQ(NpmPackagePath("left.pad"), "/npm-package/left.pad");
  EXPECT_EQ(NpmNamePath("@a~b/c"), "@a~b/c");
}

TEST(NpmPackagePageTest, TakenDownTarballAndNoTagsStillRender) {
  index::ProjectView view;
  view.project.format = std::string(catalog::kNpm);
  view.project.name = "left.pad";
  catalog::ReleaseRecord release;
  release.format = view.project.format;
  release.version = "1.0.0";
  release.deprecated = "<i>old</i>";
  view.releases = {release};
  std::string html = RenderNpmPackagePage(view, {}, "http://h/npm/", "");
  EXPECT_NE(html.find("No tarball (taken down)."), std::string::npos);
  EXPECT_NE(html.find("No dist-tags."), std::string::npos);
  EXPECT_NE(html.find("&lt;i&gt;old&lt;/i&gt;"), std::string::npos);
  EXPECT_EQ(html.find("<i>old"), std::string::npos);
  EXPECT_NE(html.find("<pre class=\"npmrc\">registry=http://h/npm/</pre>"), std::string::npos);
  EXPECT_TRUE(IsNpmReadmePlaceholder("ERROR: No README data found!"));
}

TEST(HelpPageTest, ShowsClientConfigForTheHost) {
  std::string html = RenderHelpPage("http://pipy.internal:8080");
  EXPECT_NE(html.find("pip install --index-url http://pipy.internal:8080/simple/"),
            std::string::npos);
  EXPECT_NE(html.find("index-url = http://pipy.internal:8080/simple/"), std::string::npos);
  EXPECT_NE(html.find("trusted-host = pipy.internal:8080"), std::string::npos);
  EXPECT_NE(html.find("uv pip install --index-url http://pipy.internal:8080/simple/"),
            std::string::npos);
  EXPECT_NE(html.find("[[tool.uv.index]]"), std::string::npos);
  EXPECT_NE(html.find("repository = http://pipy.internal:8080/legacy/"), std::string::npos);
  EXPECT_NE(html.find("username = __token__"), std::string::npos);
  EXPECT_EQ(RenderHelpPage("https://pypi.acme.com").find("trusted-host"), std::string::npos);
}

TEST(HelpPageTest, HostileHostIsEscaped) {
  std::string html = RenderHelpPage("http://x\"><script>alert(1)</script>");
  EXPECT_EQ(html.find("<script>alert"), std::string::npos);
  EXPECT_NE(html.find("http://x&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;/simple/"),
            std::string::npos);
}

TEST(ErrorPageTest, EscapesMessage) {
  std::string html = RenderErrorPage(404, "no project named <x>");
  EXPECT_NE(html.find("<h1>404</h1>"), std::string::npos);
  EXPECT_NE(html.find("no project named &lt;x&gt;"), std::string::npos);
}

}  // namespace
}  // namespace pipy::web
