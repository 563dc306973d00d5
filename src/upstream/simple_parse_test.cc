#include "upstream/simple_parse.h"

#include <gtest/gtest.h>

namespace pipy::upstream {
namespace {

const std::string kHex(64, 'a');
const std::string kMetaHex(64, 'b');

TEST(HtmlUnescapeTest, DecodesCharacterReferences) {
  EXPECT_EQ(HtmlUnescape("&gt;=3.8, &lt;4"), ">=3.8, <4");
  EXPECT_EQ(HtmlUnescape("&#62;=3&#x2E;8 &amp;&quot;&apos;"), ">=3.8 &\"'");
  EXPECT_EQ(HtmlUnescape("&unknown; &#; &#0; &"), "&unknown; &#; &#0; &");
  EXPECT_EQ(HtmlUnescape("&#xE9;"), "\xc3\xa9");
}

TEST(ParseProjectHtmlTest, ReadsEveryPep503Attribute) {
  std::string html =
      "<!DOCTYPE html><html><body><h1>Links for foo</h1>\n"
      "<!-- <a href=\"/commented/foo-0.1.tar.gz\">foo-0.1.tar.gz</a> -->\n"
      "<a href=\"../../packages/foo-1.0-py3-none-any.whl#sha256=" + std::string(64, 'A') +
      "\" data-requires-python=\"&gt;=3.8\" data-core-metadata=\"sha256=" + kMetaHex +
      "\">foo-1.0-py3-none-any.whl</a><br/>\n"
      "<A HREF='https://files.example.org/foo-1.0.tar.gz#md5=00' data-yanked='bad &amp; broken'>"
      " foo-1.0.tar.gz </A>\n"
      "<a data-yanked href=/x/foo-0.9.tar.gz#sha256=" + kHex + "></a>\n"
      "<a name=\"no-href\">ignored</a>\n"
      "<a href=\"foo-0.8-py3-none-any.whl#sha256=" + kHex +
      "\" data-dist-info-metadata=\"true\">foo-0.8-py3-none-any.whl</a>\n"
      "</body></html>";
  UpstreamProject p = ParseProjectHtml(html, "http://up.example/simple/foo/", "foo");
  EXPECT_EQ(p.name, "foo");
  ASSERT_EQ(p.files.size(), 4u);

  const UpstreamFile& wheel = p.files[0];
  EXPECT_EQ(wheel.filename, "foo-1.0-py3-none-any.whl");
  EXPECT_EQ(wheel.url, "http://up.example/packages/foo-1.0-py3-none-any.whl");
  EXPECT_EQ(wheel.sha256, kHex);  // lowercased
  EXPECT_EQ(wheel.requires_python, ">=3.8");
  EXPECT_TRUE(wheel.has_metadata);
  EXPECT_EQ(wheel.metadata_sha256, kMetaHex);
  EXPECT_FALSE(wheel.yanked);

  const UpstreamFile& sdist = p.files[1];
  EXPECT_EQ(sdist.filename, "foo-1.0.tar.gz");
  EXPECT_EQ(sdist.url, "https://files.example.org/foo-1.0.tar.gz");
  EXPECT_EQ(sdist.sha256, "");  // only sha256 is kept
  EXPECT_TRUE(sdist.yanked);
  EXPECT_EQ(sdist.yanked_reason, "bad & broken");

  const UpstreamFile& empty_text = p.files[2];
  EXPECT_EQ(empty_text.filename, "foo-0.9.tar.gz");  // from the URL
  EXPECT_EQ(empty_text.url, "http://up.example/x/foo-0.9.tar.gz");
  EXPECT_TRUE(empty_text.yanked);
  EXPECT_EQ(empty_text.yanked_reason, "");

  const UpstreamFile& old_metadata = p.files[3];
  EXPECT_EQ(old_metadata.url, "http://up.example/simple/foo/foo-0.8-py3-none-any.whl");
  EXPECT_TRUE(old_metadata.has_metadata);
  EXPECT_EQ(old_metadata.metadata_sha256, "");
}

TEST(ParseProjectHtmlTest, SurvivesTruncatedMarkup) {
  UpstreamProject p = ParseProjectHtml("<a href=\"foo-1.0.tar.gz#sha256=" + kHex + "\">foo",
                                       "http://up/simple/foo/", "foo");
  ASSERT_EQ(p.files.size(), 1u);
  EXPECT_EQ(p.files[0].filename, "foo");
  EXPECT_TRUE(ParseProjectHtml("<a href=\"unterminated", "http://up/simple/foo/", "foo")
                  .files.size() <= 1);
  EXPECT_TRUE(ParseProjectHtml("", "http://up/simple/foo/", "foo").files.empty());
  EXPECT_TRUE(ParseProjectHtml("<abbr href=x>y</abbr>", "http://up/", "foo").files.empty());
}

TEST(ParseProjectJsonTest, ReadsPep691Files) {
  std::string json = R"({"meta":{"api-version":"1.1"},"name":"foo","files":[
    {"filename":"foo-1.0-py3-none-any.whl","url":"../../packages/foo-1.0-py3-none-any.whl",
     "hashes":{"sha256":")" + std::string(64, 'A') + R"(","md5":"x"},"requires-python":">=3.8",
     "core-metadata":{"sha256":")" + kMetaHex + R"("},"yanked":"broken","size":1234,
     "upload-time":"2024-01-01T00:00:00.000000Z"},
    {"filename":"foo-1.0.tar.gz","url":"https://files.example.org/foo-1.0.tar.gz",
     "hashes":{},"yanked":true,"dist-info-metadata":true},
    {"filename":"foo-0.9.tar.gz","url":"foo-0.9.tar.gz","hashes":{"sha256":")" + kHex +
                     R"("},"yanked":false,"core-metadata":false},
    {"url":"missing-filename.tar.gz"}, 42, {"filename":"no-url.tar.gz"}
  ]})";
  auto p = ParseProjectJson(json, "http://up.example/simple/foo/", "foo");
  ASSERT_TRUE(p.has_value()) << p.error().message();
  ASSERT_EQ(p->files.size(), 3u);
  const UpstreamFile& wheel = p->files[0];
  EXPECT_EQ(wheel.url, "http://up.example/packages/foo-1.0-py3-none-any.whl");
  EXPECT_EQ(wheel.sha256, kHex);
  EXPECT_EQ(wheel.requires_python, ">=3.8");
  EXPECT_TRUE(wheel.has_metadata);
  EXPECT_EQ(wheel.metadata_sha256, kMetaHex);
  EXPECT_TRUE(wheel.yanked);
  EXPECT_EQ(wheel.yanked_reason, "broken");
  EXPECT_EQ(wheel.size, 1234u);
  EXPECT_EQ(wheel.upload_time, "2024-01-01T00:00:00.000000Z");

  const UpstreamFile& sdist = p->files[1];
  EXPECT_EQ(sdist.sha256, "");
  EXPECT_TRUE(sdist.yanked);
  EXPECT_TRUE(sdist.has_metadata);
  EXPECT_FALSE(sdist.size.has_value());

  EXPECT_FALSE(p->files[2].yanked);
  EXPECT_FALSE(p->files[2].has_metadata);
  EXPECT_EQ(p->files[2].url, "http://up.example/simple/foo/foo-0.9.tar.gz");
}

TEST(ParseProjectJsonTest, RejectsWhatIsNotAProjectPage) {
  EXPECT_FALSE(ParseProjectJson("{not json", "http://up/simple/foo/", "foo").has_value());
  EXPECT_FALSE(ParseProjectJson("[]", "http://up/simple/foo/", "foo").has_value());
  EXPECT_FALSE(ParseProjectJson(R"({"name":"foo"})", "http://up/simple/foo/", "foo").has_value());
  EXPECT_FALSE(
      ParseProjectJson(R"({"files":{"a":1}})", "http://up/simple/foo/", "foo").has_value());
}

TEST(IsSimpleJsonTest, MatchesThePep691MediaTypeOnly) {
  EXPECT_TRUE(IsSimpleJson("application/vnd.pypi.simple.v1+json"));
  EXPECT_TRUE(IsSimpleJson("Application/Vnd.Pypi.Simple.V1+JSON; charset=utf-8"));
  EXPECT_FALSE(IsSimpleJson("application/vnd.pypi.simple.v1+html"));
  EXPECT_FALSE(IsSimpleJson("text/html"));
  EXPECT_FALSE(IsSimpleJson(""));
}

}  // namespace
}  // namespace pipy::upstream
