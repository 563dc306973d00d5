#include "python/simple_pages.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace pipy::python {
namespace {

namespace json = boost::json;

const std::string kSha1(64, 'a');
const std::string kSha2(64, 'b');
const std::string kMeta(64, 'c');

index::ProjectView SampleView() {
  index::ProjectView view;
  view.project.name = "acme-logger";
  view.project.display_name = "Acme_Logger";
  catalog::ReleaseRecord r2;
  r2.version = "2.0";
  catalog::ReleaseRecord r1;
  r1.version = "1.0";
  r1.yanked = true;
  r1.yanked_reason = "broken \"import\" <b>";
  catalog::ReleaseRecord r0;
  r0.version = "0.1";  // a release without files still appears in PEP 700 "versions"
  view.releases = {r2, r1, r0};

  catalog::FileRecord wheel;
  wheel.project = "acme-logger";
  wheel.version = "2.0";
  wheel.filename = "acme_logger-2.0-py3-none-any.whl";
  wheel.attributes["packagetype"] = "bdist_wheel";
  wheel.size = 1234;
  wheel.sha256 = kSha1;
  wheel.attributes["metadata_sha256"] = kMeta;
  wheel.attributes["requires_python"] = ">=3.8";
  wheel.upload_time_ms = 1'700'000'000'123;

  catalog::FileRecord sdist;
  sdist.project = "acme-logger";
  sdist.version = "1.0";
  sdist.filename = "acme_logger-1.0.tar.gz";
  sdist.attributes["packagetype"] = "sdist";
  sdist.size = 99;
  sdist.sha256 = kSha2;
  sdist.yanked = true;
  sdist.yanked_reason = r1.yanked_reason;
  sdist.upload_time_ms = 0;
  view.files = {wheel, sdist};
  return view;
}

TEST(FormatUploadTimeTest, MicrosecondsUtc) {
  EXPECT_EQ(FormatUploadTime(0), "1970-01-01T00:00:00.000000Z");
  EXPECT_EQ(FormatUploadTime(1'700'000'000'123), "2023-11-14T22:13:20.123000Z");
}

TEST(AppendJsonStringTest, EscapesAndStaysValid) {
  std::string out;
  AppendJsonString(out, std::string("a\"b\\c\n\x01\x7f\xc3\xa9\xff\xe2\x82", 13));
  EXPECT_EQ(out, "\"a\\\"b\\\\c\\n\\u0001\\u007f\xc3\xa9\\ufffd\\ufffd\\ufffd\"");
  json::value v = json::parse(out);
  EXPECT_EQ(v.as_string(), "a\"b\\c\n\x01\x7f\xc3\xa9\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
}

TEST(FileUrlTest, PercentEncodesOddCharacters) {
  catalog::FileRecord f;
  f.sha256 = kSha1;
  f.filename = "x-1.0+local-py3-none-any.whl";
  EXPECT_EQ(FileUrl(f), "/files/" + kSha1 + "/x-1.0+local-py3-none-any.whl");
  f.filename = "a b&\"c#.whl";
  EXPECT_EQ(FileUrl(f), "/files/" + kSha1 + "/a%20b%26%22c%23.whl");
}

TEST(ProjectHtmlTest, AnchorsCarryHashesMetadataAndYanks) {
  std::string html = RenderProjectHtml(SampleView());
  EXPECT_NE(html.find("<meta name=\"pypi:repository-version\" content=\"1.1\">"),
            std::string::npos);
  EXPECT_NE(html.find("<a href=\"/files/" + kSha1 + "/acme_logger-2.0-py3-none-any.whl#sha256=" +
                      kSha1 + "\" data-requires-python=\"&gt;=3.8\" data-core-metadata=\"sha256=" +
                      kMeta + "\" data-dist-info-metadata=\"sha256=" + kMeta +
                      "\">acme_logger-2.0-py3-none-any.whl</a>"),
            std::string::npos)
      << html;
  EXPECT_NE(html.find("<a href=\"/files/" + kSha2 + "/acme_logger-1.0.tar.gz#sha256=" + kSha2 +
                      "\" data-yanked=\"broken &quot;import&quot; &lt;b&gt;\">"),
            std::string::npos)
      << html;
  EXPECT_NE(html.find("<title>Links for Acme_Logger</title>"), std::string::npos);
  // The sdist has no metadata, and the wheel is not yanked.
  EXPECT_EQ(html.find("data-core-metadata", html.find(kSha2)), std::string::npos);
  EXPECT_EQ(html.find("data-yanked"), html.rfind("data-yanked"));
}

TEST(ProjectHtmlTest, YankWithoutReasonHasEmptyAttribute) {
  index::ProjectView view = SampleView();
  view.files[1].yanked_reason.clear();
  std::string html = RenderProjectHtml(view);
  EXPECT_NE(html.find("data-yanked=\"\">acme_logger-1.0.tar.gz"), std::string::npos) << html;
}

TEST(ProjectHtmlTest, EscapesDisplayName) {
  index::ProjectView view = SampleView();
  view.project.display_name = "<script>";
  std::string html = RenderProjectHtml(view);
  EXPECT_EQ(html.find("<script>"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;"), std::string::npos);
}

TEST(ProjectJsonTest, Pep691And700Fields) {
  json::value v = json::parse(RenderProjectJson(SampleView()));
  const json::object& o = v.as_object();
  EXPECT_EQ(o.at("meta").at("api-version").as_string(), "1.1");
  EXPECT_EQ(o.at("name").as_string(), "acme-logger");
  const json::array& versions = o.at("versions").as_array();
  ASSERT_EQ(versions.size(), 3u);
  EXPECT_EQ(versions[2].as_string(), "0.1");
  const json::array& files = o.at("files").as_array();
  ASSERT_EQ(files.size(), 2u);

  const json::object& w = files[0].as_object();
  EXPECT_EQ(w.at("filename").as_string(), "acme_logger-2.0-py3-none-any.whl");
  EXPECT_EQ(w.at("url").as_string(), "/files/" + kSha1 + "/acme_logger-2.0-py3-none-any.whl");
  EXPECT_EQ(w.at("hashes").at("sha256").as_string(), kSha1);
  EXPECT_EQ(w.at("requires-python").as_string(), ">=3.8");
  EXPECT_EQ(w.at("core-metadata").at("sha256").as_string(), kMeta);
  EXPECT_EQ(w.at("yanked").as_bool(), false);
  EXPECT_EQ(w.at("size").to_number<std::int64_t>(), 1234);
  EXPECT_EQ(w.at("upload-time").as_string(), "2023-11-14T22:13:20.123000Z");
  EXPECT_FALSE(w.contains("dist-info-metadata"));

  const json::object& s = files[1].as_object();
  EXPECT_FALSE(s.contains("requires-python"));
  EXPECT_EQ(s.at("core-metadata").as_bool(), false);
  EXPECT_EQ(s.at("yanked").as_string(), "broken \"import\" <b>");
  EXPECT_FALSE(s.contains("dist-info-metadata"));
}

TEST(ProjectJsonTest, YankWithoutReasonIsTrue) {
  index::ProjectView view = SampleView();
  view.files[1].yanked_reason.clear();
  json::value v = json::parse(RenderProjectJson(view));
  EXPECT_EQ(v.at("files").at(1).at("yanked").as_bool(), true);
}

std::vector<catalog::ProjectRecord> ManyProjects(int n) {
  std::vector<catalog::ProjectRecord> projects;
  for (int i = 0; i < n; ++i) {
    catalog::ProjectRecord p;
    p.name = "project-" + std::to_string(i);
    p.display_name = "Project_" + std::to_string(i);
    projects.push_back(p);
  }
  return projects;
}

TEST(RootTest, HtmlLinksNormalizedNames) {
  auto projects = ManyProjects(2);
  projects[1].display_name = "A&B";
  std::string html = RenderRootHtml(projects);
  EXPECT_NE(html.find("<meta name=\"pypi:repository-version\" content=\"1.1\">"),
            std::string::npos);
  EXPECT_NE(html.find("<a href=\"/simple/project-0/\">Project_0</a>"), std::string::npos);
  EXPECT_NE(html.find("<a href=\"/simple/project-1/\">A&amp;B</a>"), std::string::npos);
}

TEST(RootTest, JsonListsDisplayNames) {
  auto projects = ManyProjects(3);
  projects[2].display_name = "Q\"uote";
  json::value v = json::parse(RenderRootJson(projects));
  EXPECT_EQ(v.at("meta").at("api-version").as_string(), "1.1");
  const json::array& list = v.at("projects").as_array();
  ASSERT_EQ(list.size(), 3u);
  EXPECT_EQ(list[0].at("name").as_string(), "Project_0");
  EXPECT_EQ(list[2].at("name").as_string(), "Q\"uote");
}

TEST(RootTest, TwentyThousandProjectsRenderCompletely) {
  auto projects = ManyProjects(20'000);
  json::value v = json::parse(RenderRoot(SimpleFormat::kJsonV1, projects));
  EXPECT_EQ(v.at("projects").as_array().size(), 20'000u);
  std::string html = RenderRoot(SimpleFormat::kHtml, projects);
  std::size_t anchors = 0;
  for (std::size_t pos = html.find("<a "); pos != std::string::npos;
       pos = html.find("<a ", pos + 1)) {
    ++anchors;
  }
  EXPECT_EQ(anchors, 20'000u);
  EXPECT_NE(html.find("/simple/project-19999/"), std::string::npos);
}

TEST(RenderTest, DispatchesOnFormat) {
  index::ProjectView view = SampleView();
  EXPECT_EQ(RenderProject(SimpleFormat::kJsonV1, view), RenderProjectJson(view));
  EXPECT_EQ(RenderProject(SimpleFormat::kHtmlV1, view), RenderProjectHtml(view));
  EXPECT_EQ(RenderProject(SimpleFormat::kHtml, view), RenderProjectHtml(view));
}

}  // namespace
}  // namespace pipy::python
