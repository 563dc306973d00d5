// The UI handlers against a real index (SQLite catalog, filesystem blobs) and real wheels.
#include "web/routes.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>

#include "auth/authenticator.h"
#include "catalog/factory.h"
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
};

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
  for (const char* path : {"/", "/help", "/project/acme-logger/"}) {
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

}  // namespace
}  // namespace pipy::web
