// The UI handlers against a real index (SQLite catalog, filesystem blobs) and real wheels.
#include "web/routes.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>

#include "app/page_layout.h"
#include "auth/authenticator.h"
#include "catalog/factory.h"
#include "core/digest.h"
#include "core/npm_name.h"
#include "npm/npm_format.h"
#include "python/publish.h"
#include "python/python_format.h"
#include "storage/factory.h"
#include "testing/dist_builder.h"

namespace pipy::web {
namespace {

class WebRoutesTest : public ::testing::Test {
 protected:
  void SetUp() override { Start(/*anonymous_read=*/true); }

  void Start(bool anonymous_read, WebOptions web_options = {}) {
    router_ = std::make_unique<http::Router>();
    storage::StorageOptions storage_options;
    storage_options.root = tmp_.path() / "data";
    auto blobs = storage::MakeBlobStore(storage_options);
    ASSERT_TRUE(blobs) << blobs.error().ToString();
    blobs_ = std::move(*blobs);
    catalog::CatalogOptions catalog_options;
    catalog_options.sqlite_path = tmp_.path() / "data" / "catalog.db";
    auto catalog = catalog::MakeCatalog(catalog_options);
    ASSERT_TRUE(catalog) << catalog.error().ToString();
    catalog_ = std::move(*catalog);
    index_ = std::make_unique<index::Index>(*blobs_, *catalog_);
    auth::AccessOptions access_options;
    access_options.anonymous_read = anonymous_read;
    auto authenticator = auth::Authenticator::Create(*catalog_, access_options);
    ASSERT_TRUE(authenticator) << authenticator.error().ToString();
    authenticator_ = std::make_unique<auth::Authenticator>(std::move(*authenticator));
    access_ = std::make_unique<app::Access>(*authenticator_);
    RegisterRoutes(*router_, *index_, *access_, std::move(web_options));
    std::filesystem::create_directories(tmp_.path() / "dist");
  }

  void Publish(const std::string& name, const std::string& version,
               const std::string& readme = "") {
    auth::Principal who;
    who.anonymous = false;
    who.token_name = "ci";
    who.scopes = {"upload:*"};
    std::filesystem::path wheel = testing::MakeWheel(
        tmp_.path() / "dist", name, version,
        readme.empty() ? "" : testing::CoreMetadataText(name, version, "", readme));
    python::DistributionUpload upload;
    upload.file = wheel;
    upload.filename = wheel.filename().string();
    upload.uploader = "ci";
    auto published = python::PublishDistribution(*index_, who, upload);
    ASSERT_TRUE(published) << published.error().ToString();
  }

  static auth::Principal Uploader() {
    auth::Principal who;
    who.anonymous = false;
    who.token_name = "ci";
    who.scopes = {"upload:*"};
    return who;
  }

  // Publishes an npm version the way npm's publish does, through the neutral path: a real
  // .tgz with package/package.json, its sha1 and sha512, README and description. Returns
  // the tarball's integrity.
  std::string PublishNpm(const std::string& name, const std::string& version,
                         const std::string& readme = "# npm readme\n",
                         const std::string& description = "") {
    std::filesystem::path dir = tmp_.path() / "npm" / std::to_string(++npm_dists_);
    std::filesystem::create_directories(dir);
    const std::string filename = npm_name::TarballFilename(name, version);
    testing::WriteArchive(
        dir / filename, /*zip=*/false,
        {{"package/package.json",
          "{\"name\":\"" + name + "\",\"version\":\"" + version + "\"}"},
         {"package/index.js", "module.exports = 1;\n"}});
    const std::string bytes = testing::ReadFile(dir / filename);
    Digest sha1(Digest::Algorithm::kSha1);
    sha1.Update(bytes);
    Digest sha512(Digest::Algorithm::kSha512);
    sha512.Update(bytes);
    index::PublishRequest request;
    request.project = name;
    request.version = version;
    request.filename = filename;
    request.file = dir / filename;
    request.attributes[std::string(npm::kShasum)] = sha1.Hex();
    request.attributes[std::string(npm::kIntegrity)] = Sha512Integrity(sha512.Raw());
    request.release.display_name = name;
    request.release.summary = description;
    request.release.description = readme;
    request.manifest = "{\"name\":\"" + name + "\",\"version\":\"" + version + "\"}";
    request.uploader = "ci";
    auto published = index_->Publish(Uploader(), npm::NpmFormat(), std::move(request));
    EXPECT_TRUE(published) << published.error().ToString();
    return Sha512Integrity(sha512.Raw());
  }

  void Tag(const std::string& name, const std::string& tag, const std::string& version) {
    Status set = index_->SetTag(Uploader(), npm::NpmFormat(), name, tag, version);
    ASSERT_TRUE(set.ok()) << set.ToString();
  }

  http::Response Get(const std::string& path, const std::string& query = "",
                     std::vector<http::Header> headers = {}) {
    http::Request request;
    request.method = "GET";
    request.path = path;
    request.query = query;
    request.target = query.empty() ? path : path + "?" + query;
    request.headers = std::move(headers);
    request.remote_address = "127.0.0.1";
    http::Router::Match match = router_->Find("GET", path);
    if (match.route == nullptr) {
      ADD_FAILURE() << "no route for " << path;
      return http::TextResponse(599, "");
    }
    request.params = match.params;
    http::Response r = match.route->handler(request);
    // What the server does with a hand-off to its blocking pool.
    while (r.continue_blocking) {
      auto next = std::move(r.continue_blocking);
      r = next();
    }
    return r;
  }

  // Whether the handler answered at once (on the I/O thread, in the server).
  bool AnsweredInline(const std::string& path) {
    http::Request request;
    request.method = "GET";
    request.path = path;
    request.target = path;
    request.remote_address = "127.0.0.1";
    http::Router::Match match = router_->Find("GET", path);
    request.params = match.params;
    return !match.route->handler(request).continue_blocking;
  }

  static std::string Body(const http::Response& r) {
    if (const auto* s = std::get_if<std::string>(&r.body)) {
      return *s;
    }
    if (const auto* p = std::get_if<std::shared_ptr<const std::string>>(&r.body)) {
      return **p;
    }
    return "";
  }

  testing::TempDir tmp_;
  std::unique_ptr<storage::BlobStore> blobs_;
  std::unique_ptr<catalog::Catalog> catalog_;
  std::unique_ptr<index::Index> index_;
  std::unique_ptr<auth::Authenticator> authenticator_;
  std::unique_ptr<app::Access> access_;
  std::unique_ptr<http::Router> router_;
  int npm_dists_ = 0;
};

// The position of `needle` in `haystack`, failing the test when it is missing.
std::size_t At(const std::string& haystack, const std::string& needle) {
  std::size_t at = haystack.find(needle);
  EXPECT_NE(at, std::string::npos) << "missing: " << needle;
  return at;
}

TEST_F(WebRoutesTest, RootListsProjectsAndRevalidatesWithEtag) {
  Publish("acme-logger", "1.0");
  http::Response first = Get("/");
  ASSERT_EQ(first.status, 200) << Body(first);
  EXPECT_NE(Body(first).find("/project/acme-logger/"), std::string::npos);
  ASSERT_TRUE(first.header("ETag").has_value());
  std::string etag(*first.header("ETag"));
  http::Response again = Get("/", "", {{"If-None-Match", etag}});
  EXPECT_EQ(again.status, 304);
  EXPECT_EQ(Body(again), "");

  // A new project changes the page, so the old ETag no longer matches.
  Publish("acme-redis", "0.1");
  http::Response after = Get("/", "", {{"If-None-Match", etag}});
  ASSERT_EQ(after.status, 200);
  EXPECT_NE(Body(after).find("/project/acme-redis/"), std::string::npos);
}

TEST_F(WebRoutesTest, RootFiltersWithQuery) {
  Publish("acme-logger", "1.0");
  Publish("packets", "2.0");
  http::Response r = Get("/", "q=pack");
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(Body(r).find("/project/packets/"), std::string::npos);
  EXPECT_EQ(Body(r).find("/project/acme-logger/"), std::string::npos);
}

TEST_F(WebRoutesTest, ProjectPageShowsFilesAndReadme) {
  Publish("acme-logger", "1.0");
  http::Response r = Get("/project/acme-logger/");
  ASSERT_EQ(r.status, 200) << Body(r);
  EXPECT_NE(Body(r).find("acme_logger-1.0-py3-none-any.whl</a>"), std::string::npos);
  EXPECT_NE(Body(r).find("<h1>Hello</h1>"), std::string::npos) << Body(r);
  ASSERT_TRUE(r.header("ETag").has_value());
  EXPECT_EQ(Get("/project/acme-logger/", "", {{"If-None-Match", std::string(*r.header("ETag"))}})
                .status,
            304);
}

TEST_F(WebRoutesTest, NonNormalizedNamesRedirect) {
  Publish("acme-logger", "1.0");
  http::Response r = Get("/project/Acme_Logger/");
  EXPECT_EQ(r.status, 301);
  EXPECT_EQ(r.header("Location").value_or(""), "/project/acme-logger/");
  http::Response no_slash = Get("/project/acme-logger");
  EXPECT_EQ(no_slash.status, 301);
  EXPECT_EQ(no_slash.header("Location").value_or(""), "/project/acme-logger/");
}

TEST_F(WebRoutesTest, UnknownProjectIs404Page) {
  http::Response r = Get("/project/nothing-here/");
  EXPECT_EQ(r.status, 404);
  EXPECT_NE(r.header("Content-Type").value_or("").find("text/html"), std::string::npos);
}

TEST_F(WebRoutesTest, HelpUsesEscapedHostHeader) {
  http::Response r = Get("/help", "", {{"Host", "pipy.internal:8080"}});
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(Body(r).find("index-url = http://pipy.internal:8080/simple/"), std::string::npos);
  r = Get("/help", "", {{"Host", "x<script>"}});
  EXPECT_EQ(Body(r).find("x<script>"), std::string::npos);
  EXPECT_NE(Body(r).find("http://x&lt;script&gt;/simple/"), std::string::npos);
}

TEST_F(WebRoutesTest, PrivateRepositoryNeedsTokenEverywhere) {
  Start(/*anonymous_read=*/false);
  for (const char* path : {"/", "/help", "/project/acme-logger/", "/npm-package/@acme/log"}) {
    http::Response r = Get(path);
    EXPECT_EQ(r.status, 401) << path;
    EXPECT_TRUE(r.header("WWW-Authenticate").has_value()) << path;
  }
}

using Clock = std::chrono::steady_clock;
using std::chrono_literals::operator""ms;

std::string Repeat(std::string_view s, std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i < n; ++i) {
    out += s;
  }
  return out;
}

TEST_F(WebRoutesTest, CachedPagesAnswerInlineAndBuildsAreHandedOff) {
  Publish("acme-logger", "1.0");
  // Not cached yet: the build (catalog reads, README render) leaves the I/O thread.
  EXPECT_FALSE(AnsweredInline("/project/acme-logger/"));
  EXPECT_FALSE(AnsweredInline("/"));
  ASSERT_EQ(Get("/project/acme-logger/").status, 200);
  ASSERT_EQ(Get("/").status, 200);
  EXPECT_TRUE(AnsweredInline("/project/acme-logger/"));
  EXPECT_TRUE(AnsweredInline("/"));
}

// A README on which cmark-gfm 0.29 spends ~15 s in process: the page is built within the
// render budget (the real child process: this test binary, test_main.cc) and shows the
// README as escaped text; later builds of the page (after a yank) do not render it again.
TEST_F(WebRoutesTest, HostileReadmeRendersWithinBudgetAsText) {
  auto readme = std::make_shared<ReadmeRenderer>([] {
    ReadmeOptions o;
    o.child.timeout = 1000ms;
    return o;
  }());
  WebOptions web;
  web.readme = readme;
  Start(/*anonymous_read=*/true, web);
  Publish("hostile", "1.0", Repeat("![[]()", 40000) + "<script>x</script>");
  Publish("hostile", "0.9", "# Old");

  auto start = Clock::now();
  http::Response r = Get("/project/hostile/");
  EXPECT_LT(Clock::now() - start, 2500ms);
  ASSERT_EQ(r.status, 200) << Body(r);
  EXPECT_NE(Body(r).find("shown as plain text"), std::string::npos);
  EXPECT_NE(Body(r).find("<pre>![[]()![[]()"), std::string::npos);
  EXPECT_NE(Body(r).find("&lt;script&gt;x&lt;/script&gt;</pre>"), std::string::npos);
  EXPECT_EQ(Body(r).find("<script>x"), std::string::npos);
  EXPECT_EQ(readme->markdown_renders(), 1u);

  // The 0.9 release changes: the page is rebuilt, the 1.0 README is not rendered again.
  auth::Principal who;
  who.anonymous = false;
  who.token_name = "ci";
  who.scopes = {"upload:*"};
  ASSERT_TRUE(index_->SetYanked(who, python::PythonFormat(), "hostile", "0.9", true, "old").ok());
  start = Clock::now();
  r = Get("/project/hostile/");
  EXPECT_LT(Clock::now() - start, 500ms);
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(Body(r).find("yanked"), std::string::npos);
  EXPECT_EQ(readme->markdown_renders(), 1u);
}

// Concurrent requests for a page being built share that one build.
TEST_F(WebRoutesTest, ConcurrentRequestsBuildThePageOnce) {
  std::atomic<int> renders{0};
  auto readme = std::make_shared<ReadmeRenderer>([&] {
    ReadmeOptions o;
    o.render_markdown = [&](std::string_view) -> Result<std::string> {
      ++renders;
      std::this_thread::sleep_for(300ms);
      return std::string("<p>slow readme</p>");
    };
    return o;
  }());
  WebOptions web;
  web.readme = readme;
  Start(/*anonymous_read=*/true, web);
  Publish("slow-readme", "1.0", "slow");
  std::vector<std::future<std::string>> bodies;
  for (int i = 0; i < 8; ++i) {
    bodies.push_back(std::async(std::launch::async, [this] {
      return Body(Get("/project/slow-readme/"));
    }));
  }
  for (auto& b : bodies) {
    EXPECT_NE(b.get().find("<p>slow readme</p>"), std::string::npos);
  }
  EXPECT_EQ(renders.load(), 1);
}


// --- npm packages ---------------------------------------------------------------------

TEST_F(WebRoutesTest, RootListsPythonAndNpmProjectsWithTheirFormat) {
  Publish("acme-logger", "1.0");
  PublishNpm("acme-logger", "1.0.0");  // the same name in the other format: its own row
  PublishNpm("@acme/log", "1.0.0");
  http::Response r = Get("/");
  ASSERT_EQ(r.status, 200) << Body(r);
  const std::string html = Body(r);
  At(html, "<a href=\"/project/acme-logger/\">acme-logger</a> <code class=\"format\">python"
           "</code>");
  At(html, "<a href=\"/npm-package/acme-logger\">acme-logger</a> <code class=\"format\">npm"
           "</code>");
  At(html, "<a href=\"/npm-package/@acme/log\">@acme/log</a> <code class=\"format\">npm</code>");
  At(html, "3 projects");

  // The server-side filter covers npm names too.
  http::Response filtered = Get("/", "q=acme/l");
  ASSERT_EQ(filtered.status, 200);
  At(Body(filtered), "/npm-package/@acme/log");
  EXPECT_EQ(Body(filtered).find("/project/acme-logger/"), std::string::npos);

  // A new npm package changes the cached list.
  std::string etag(r.header("ETag").value_or(""));
  PublishNpm("packets", "0.1.0");
  http::Response after = Get("/", "", {{"If-None-Match", etag}});
  ASSERT_EQ(after.status, 200);
  At(Body(after), "/npm-package/packets");
}

TEST_F(WebRoutesTest, NpmPageShowsVersionsTagsDeprecationHashesAndInstallCommands) {
  PublishNpm("@acme/log", "1.2.0", "# Old readme\n");
  PublishNpm("@acme/log", "1.9.0", "# Nine\n");
  std::string integrity = PublishNpm("@acme/log", "1.10.0", "# Latest readme\n\nUse `log()`.\n",
                                     "Logs to analytics");
  PublishNpm("@acme/log", "2.0.0-beta.1", "# Beta readme\n");
  Tag("@acme/log", "latest", "1.10.0");
  Tag("@acme/log", "next", "2.0.0-beta.1");
  ASSERT_TRUE(index_->SetDeprecated(Uploader(), npm::NpmFormat(), "@acme/log", "1.2.0",
                                    "use 1.10 or later")
                  .ok());

  http::Response r = Get("/npm-package/@acme/log", "", {{"Host", "pipy.internal:8080"}});
  ASSERT_EQ(r.status, 200) << Body(r);
  EXPECT_NE(r.header("Content-Type").value_or("").find("text/html"), std::string::npos);
  const std::string html = Body(r);
  // Newest first by SemVer (1.10.0 after 2.0.0-beta.1, before 1.9.0: not text order).
  std::size_t beta = At(html, "id=\"v2.0.0-beta.1\"");
  std::size_t ten = At(html, "id=\"v1.10.0\"");
  std::size_t nine = At(html, "id=\"v1.9.0\"");
  std::size_t two = At(html, "id=\"v1.2.0\"");
  EXPECT_LT(beta, ten);
  EXPECT_LT(ten, nine);
  EXPECT_LT(nine, two);
  // The README and description of what "latest" names, through the Markdown renderer.
  At(html, "<h1>Latest readme</h1>");
  At(html, "<code>log()</code>");
  EXPECT_EQ(html.find("Beta readme"), std::string::npos);
  At(html, "<p class=\"summary\">Logs to analytics</p>");
  // Dist-tags, in their table and beside their versions.
  At(html, "<td>latest</td><td><a href=\"#v1.10.0\">1.10.0</a></td>");
  At(html, "<td>next</td><td><a href=\"#v2.0.0-beta.1\">2.0.0-beta.1</a></td>");
  At(html, "1.10.0 <span class=\"muted tags\">(latest)</span>");
  // The deprecation message on its version only.
  std::size_t deprecation = At(html, "use 1.10 or later");
  EXPECT_GT(deprecation, two);
  // The tarball: its registry URL, size, digests and uploader.
  At(html, "<a href=\"/npm/@acme/log/-/log-1.10.0.tgz\">log-1.10.0.tgz</a>");
  At(html, integrity);
  auto file = index_->FindFile(npm::NpmFormat(), "@acme/log", "log-1.10.0.tgz");
  ASSERT_TRUE(file) << file.error().ToString();
  At(html, "sha256 " + file->sha256);
  At(html, "sha1 " + std::string(npm::Shasum(*file)));
  At(html, "<td>" + app::FormatSize(file->size) + "</td>");
  At(html, "<td>ci</td>");
  // Install commands for the three clients, and the .npmrc line for this server.
  At(html, "npm install @acme/log\nyarn add @acme/log\npnpm add @acme/log");
  At(html, "@acme:registry=http://pipy.internal:8080/npm/");

  // Cached with an ETag; a deprecation through the index rebuilds it.
  ASSERT_TRUE(r.header("ETag").has_value());
  std::string etag(*r.header("ETag"));
  EXPECT_EQ(Get("/npm-package/@acme/log", "", {{"Host", "pipy.internal:8080"},
                                              {"If-None-Match", etag}})
                .status,
            304);
  ASSERT_TRUE(index_->SetDeprecated(Uploader(), npm::NpmFormat(), "@acme/log", "1.9.0",
                                    "nine is gone")
                  .ok());
  http::Response after = Get("/npm-package/@acme/log", "", {{"Host", "pipy.internal:8080"},
                                                           {"If-None-Match", etag}});
  ASSERT_EQ(after.status, 200);
  At(Body(after), "nine is gone");
}

TEST_F(WebRoutesTest, NpmPageUsesPublicUrlAndUnscopedRegistryLine) {
  WebOptions web;
  web.public_base_hint = "https://pipy.example/";
  Start(/*anonymous_read=*/true, web);
  PublishNpm("leftpad", "1.0.0");
  http::Response r = Get("/npm-package/leftpad", "", {{"Host", "other:1"}});
  ASSERT_EQ(r.status, 200) << Body(r);
  At(Body(r), "<pre class=\"npmrc\">registry=https://pipy.example/npm/</pre>");
  At(Body(r), "npm install leftpad\nyarn add leftpad\npnpm add leftpad");
  EXPECT_EQ(Body(r).find("other:1"), std::string::npos);
}

TEST_F(WebRoutesTest, NpmPageEscapesHostileDescriptionReadmeDeprecationAndHost) {
  PublishNpm("evil", "1.0.0",
             "<script>window.pwned=1</script>\n\n# Title\n\n<img src=x onerror=alert(2)>\n"
             "[click](javascript:alert(3))\n",
             "<img src=x onerror=alert(1)>");
  ASSERT_TRUE(index_->SetDeprecated(Uploader(), npm::NpmFormat(), "evil", "1.0.0",
                                    "<b onclick=alert(4)>bad</b>")
                  .ok());
  http::Response r = Get("/npm-package/evil", "", {{"Host", "x\"><script>alert(5)</script>"}});
  ASSERT_EQ(r.status, 200) << Body(r);
  const std::string html = Body(r);
  EXPECT_EQ(html.find("<script>window"), std::string::npos);
  EXPECT_EQ(html.find("<script>alert"), std::string::npos);
  EXPECT_EQ(html.find("<img"), std::string::npos);
  EXPECT_EQ(html.find("<b onclick"), std::string::npos);
  EXPECT_EQ(html.find("javascript:"), std::string::npos);
  At(html, "<h1>Title</h1>");  // the Markdown still renders around what was dropped
  At(html, "&lt;img src=x onerror=alert(1)&gt;");
  At(html, "&lt;b onclick=alert(4)&gt;bad&lt;/b&gt;");
  At(html, "registry=http://x&quot;&gt;&lt;script&gt;alert(5)&lt;/script&gt;/npm/");
}

TEST_F(WebRoutesTest, UnknownOrInvalidNpmPackageIs404Page) {
  PublishNpm("@acme/log", "1.0.0");
  Publish("python-only", "1.0");
  for (const char* path : {"/npm-package/nothing-here", "/npm-package/@acme/nothing",
                           "/npm-package/python-only", "/npm-package/@acme/../x",
                           "/npm-package/Upper", "/npm-package/@acme/log/extra"}) {
    http::Response r = Get(path);
    EXPECT_EQ(r.status, 404) << path;
    EXPECT_NE(r.header("Content-Type").value_or("").find("text/html"), std::string::npos)
        << path;
  }
  // The Python page of an npm-only name is a 404 too: the formats do not mix.
  EXPECT_EQ(Get("/project/log/").status, 404);
  http::Response slash = Get("/npm-package/@acme/log/");
  EXPECT_EQ(slash.status, 301);
  EXPECT_EQ(slash.header("Location").value_or(""), "/npm-package/@acme/log");
}

// Pages name the registry URL, which follows the Host: a few hosts' pages are cached, the
// rest are rendered per request, so made-up Host headers cannot grow the cache.
TEST_F(WebRoutesTest, NpmPagesAreCachedForAFewRegistryUrlsOnly) {
  PublishNpm("leftpad", "1.0.0");
  auto inline_for = [&](const std::string& host) {
    http::Request request;
    request.method = "GET";
    request.path = "/npm-package/leftpad";
    request.target = request.path;
    request.headers = {{"Host", host}};
    request.remote_address = "127.0.0.1";
    http::Router::Match match = router_->Find("GET", request.path);
    request.params = match.params;
    return !match.route->handler(request).continue_blocking;
  };
  for (int i = 0; i < 40; ++i) {
    const std::string host = "h" + std::to_string(i) + ":80";
    http::Response r = Get("/npm-package/leftpad", "", {{"Host", host}});
    ASSERT_EQ(r.status, 200);
    At(Body(r), "registry=http://" + host + "/npm/");
  }
  EXPECT_TRUE(inline_for("h0:80"));
  EXPECT_FALSE(inline_for("h39:80"));
}

TEST_F(WebRoutesTest, HelpShowsNpmrcForThisServer) {
  http::Response r = Get("/help", "", {{"Host", "pipy.internal:8080"}});
  ASSERT_EQ(r.status, 200);
  At(Body(r), "registry=http://pipy.internal:8080/npm/\n"
              "//pipy.internal:8080/npm/:_authToken=TOKEN");
  At(Body(r), "npm publish --registry http://pipy.internal:8080/npm/");
  WebOptions web;
  web.public_base_hint = "https://pipy.example/sub/";
  Start(/*anonymous_read=*/true, web);
  r = Get("/help", "", {{"Host", "ignored:1"}});
  At(Body(r), "registry=https://pipy.example/sub/npm/\n"
              "//pipy.example/sub/npm/:_authToken=TOKEN");
}

}  // namespace
}  // namespace pipy::web
