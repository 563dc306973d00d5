#include "upstream/project_page.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "python/simple_pages.h"

namespace pipy::upstream {
namespace {

const std::string kA(64, 'a');
const std::string kB(64, 'b');
const std::string kC(64, 'c');

UpstreamFile File(std::string filename, std::string url, std::string sha256) {
  UpstreamFile f;
  f.filename = std::move(filename);
  f.url = std::move(url);
  f.sha256 = std::move(sha256);
  return f;
}

UrlPolicy Policy() {
  auto policy = UrlPolicy::Create("http://up.example/simple/", {"files.example.org"});
  EXPECT_TRUE(policy.has_value());
  return *policy;
}

TEST(SelectServableTest, KeepsOnlyVerifiableFilesOfThisProjectOnAllowedHosts) {
  UpstreamProject p;
  p.name = "foo";
  p.files.push_back(File("foo-1.0-py3-none-any.whl", "http://up.example/p/foo.whl", kA));
  p.files.push_back(File("bar-1.0.tar.gz", "http://up.example/p/bar-1.0.tar.gz", kB));   // other
  p.files.push_back(File("foo-0.9.tar.gz", "http://up.example/p/foo-0.9.tar.gz", ""));    // no hash
  p.files.push_back(File("foo-0.8.tar.gz", "http://up.example/p/foo-0.8.tar.gz", "abc"));  // bad
  p.files.push_back(File("foo-0.7.tar.gz", "http://evil.example/foo-0.7.tar.gz", kC));  // foreign
  p.files.push_back(File("foo-0.6.tar.gz", "https://files.example.org/foo-0.6.tar.gz", kC));
  p.files.push_back(File("foo-0.6.tar.gz", "https://files.example.org/again.tar.gz", kB));  // dup
  p.files.push_back(File("not a dist", "http://up.example/p/x", kA));
  p.files[0].has_metadata = true;  // metadata without a hash: not advertised
  p.files[5].has_metadata = true;
  p.files[5].metadata_sha256 = kB;

  UpstreamProject kept = SelectServable(p, Policy());
  ASSERT_EQ(kept.files.size(), 2u);
  EXPECT_EQ(kept.files[0].filename, "foo-1.0-py3-none-any.whl");
  EXPECT_FALSE(kept.files[0].has_metadata);
  EXPECT_EQ(kept.files[1].filename, "foo-0.6.tar.gz");
  EXPECT_EQ(kept.files[1].url, "https://files.example.org/foo-0.6.tar.gz");
  EXPECT_TRUE(kept.files[1].has_metadata);
}

TEST(ProjectPageTest, FileUrlsPointAtPipy) {
  UpstreamFile f = File("foo-1.0+local.tar.gz", "http://up.example/x", kA);
  EXPECT_EQ(ProxiedFileUrl(f), "/upstream-files/" + kA + "/foo-1.0+local.tar.gz");
  f.filename = "foo 1.tar.gz";
  EXPECT_EQ(ProxiedFileUrl(f), "/upstream-files/" + kA + "/foo%201.tar.gz");
  EXPECT_EQ(ProjectOfFilename("Foo_Bar-1.0-py3-none-any.whl"), "foo-bar");
  EXPECT_EQ(ProjectOfFilename("foo-1.0.tar.gz"), "foo");
  EXPECT_EQ(ProjectOfFilename("../etc/passwd"), "");
}

UpstreamProject Sample() {
  UpstreamProject p;
  p.name = "foo";
  UpstreamFile wheel = File("foo-1.0-py3-none-any.whl", "http://up.example/p/w", kA);
  wheel.requires_python = ">=3.8,<4";
  wheel.has_metadata = true;
  wheel.metadata_sha256 = kB;
  wheel.size = 10;
  UpstreamFile sdist = File("foo-0.9.tar.gz", "http://up.example/p/s", kC);
  sdist.yanked = true;
  sdist.yanked_reason = "broken <badly>";
  sdist.size = 20;
  sdist.upload_time = "2024-01-01T00:00:00.000000Z";
  p.files = {wheel, sdist};
  return p;
}

TEST(ProjectPageTest, HtmlCarriesHashesRequiresPythonYankedAndMetadata) {
  std::string html = RenderProjectHtml(Sample());
  EXPECT_NE(html.find("<a href=\"/upstream-files/" + kA + "/foo-1.0-py3-none-any.whl#sha256=" +
                      kA + "\" data-requires-python=\"&gt;=3.8,&lt;4\" data-core-metadata=\"sha256=" +
                      kB + "\" data-dist-info-metadata=\"sha256=" + kB + "\">"),
            std::string::npos)
      << html;
  EXPECT_NE(html.find("data-yanked=\"broken &lt;badly&gt;\">foo-0.9.tar.gz</a>"),
            std::string::npos)
      << html;
  EXPECT_EQ(html.find("http://up.example"), std::string::npos);  // never the upstream's URL
  // The parser reads back what the renderer wrote.
  UpstreamProject again = ParseProjectHtml(html, "http://pipy/simple/foo/", "foo");
  ASSERT_EQ(again.files.size(), 2u);
  EXPECT_EQ(again.files[0].requires_python, ">=3.8,<4");
  EXPECT_EQ(again.files[1].yanked_reason, "broken <badly>");
}

TEST(ProjectPageTest, JsonIsPep691WithPep700FieldsWhenSizesAreKnown) {
  std::string json = RenderProjectJson(Sample());
  boost::json::value v = boost::json::parse(json);
  EXPECT_EQ(v.at("meta").at("api-version").as_string(), "1.1");
  EXPECT_EQ(v.at("name").as_string(), "foo");
  const auto& versions = v.at("versions").as_array();
  ASSERT_EQ(versions.size(), 2u);
  EXPECT_EQ(versions[0].as_string(), "1.0");
  const auto& files = v.at("files").as_array();
  ASSERT_EQ(files.size(), 2u);
  const auto& wheel = files[0].as_object();
  EXPECT_EQ(wheel.at("url").as_string(), "/upstream-files/" + kA + "/foo-1.0-py3-none-any.whl");
  EXPECT_EQ(wheel.at("hashes").at("sha256").as_string(), kA);
  EXPECT_EQ(wheel.at("requires-python").as_string(), ">=3.8,<4");
  EXPECT_EQ(wheel.at("core-metadata").at("sha256").as_string(), kB);
  EXPECT_EQ(wheel.at("yanked").as_bool(), false);
  EXPECT_EQ(wheel.at("size").as_int64(), 10);
  EXPECT_FALSE(wheel.contains("dist-info-metadata"));
  const auto& sdist = files[1].as_object();
  EXPECT_EQ(sdist.at("yanked").as_string(), "broken <badly>");
  EXPECT_EQ(sdist.at("core-metadata").as_bool(), false);
  EXPECT_EQ(sdist.at("upload-time").as_string(), "2024-01-01T00:00:00.000000Z");
}

// The proxied page and the internal page go through one renderer: the same files give the
// same bytes, but for where the files are served.
TEST(ProjectPageTest, RendersLikeAnInternalPageOfTheSameFiles) {
  UpstreamProject p = Sample();
  p.files[0].upload_time = python::FormatUploadTime(1'700'000'000'123);
  p.files[1].upload_time = python::FormatUploadTime(0);

  index::ProjectView view;
  view.project.name = "foo";
  view.releases.resize(2);
  view.releases[0].version = "1.0";
  view.releases[1].version = "0.9";
  for (const UpstreamFile& f : p.files) {
    catalog::FileRecord r;
    r.filename = f.filename;
    r.sha256 = f.sha256;
    r.attributes["requires_python"] = f.requires_python;
    r.attributes["metadata_sha256"] = f.metadata_sha256;
    r.yanked = f.yanked;
    r.yanked_reason = f.yanked_reason;
    r.size = *f.size;
    view.files.push_back(r);
  }
  view.files[0].upload_time_ms = 1'700'000'000'123;
  view.files[1].upload_time_ms = 0;

  auto internal_urls = [](std::string page) {
    for (std::size_t at = page.find(kFilesPrefix); at != std::string::npos;
         at = page.find(kFilesPrefix, at)) {
      page.replace(at, kFilesPrefix.size(), "/files/");
    }
    return page;
  };
  EXPECT_EQ(internal_urls(RenderProjectHtml(p)), python::RenderProjectHtml(view));
  EXPECT_EQ(internal_urls(RenderProjectJson(p)), python::RenderProjectJson(view));
}

TEST(ProjectPageTest, JsonFallsBackToApiVersion10WithoutSizes) {
  UpstreamProject p = Sample();
  p.files[1].size.reset();
  boost::json::value v = boost::json::parse(RenderProjectJson(p));
  EXPECT_EQ(v.at("meta").at("api-version").as_string(), "1.0");
  EXPECT_FALSE(v.as_object().contains("versions"));
  EXPECT_FALSE(v.at("files").as_array()[0].as_object().contains("size"));
}

}  // namespace
}  // namespace pipy::upstream
