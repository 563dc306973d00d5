// The builder's routes with a real Builder (not started: no thread polls), a real git
// repository, SQLite queue and index.
#include "builder/routes.h"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/json.hpp>

#include "builder/test_repo.h"
#include "auth/authenticator.h"
#include "builder/webhook.h"
#include "catalog/factory.h"
#include "catalog/sqlite_build_queue.h"
#include "storage/factory.h"
#include "testing/dist_builder.h"

namespace pipy::builder {
namespace {

// Forwards to a real queue and counts the Get calls, so a test can tell what a page costs.
class CountingQueue : public catalog::BuildQueue {
 public:
  explicit CountingQueue(catalog::BuildQueue& inner) : inner_(inner) {}
  int gets() const { return gets_; }

  Result<catalog::BuildJob> Enqueue(const catalog::NewBuild& build) override {
    return inner_.Enqueue(build);
  }
  Result<std::optional<catalog::BuildJob>> ClaimNext(std::string_view runner,
                                                     std::int64_t now_ms) override {
    return inner_.ClaimNext(runner, now_ms);
  }
  Status AppendLog(std::int64_t id, std::string_view chunk, std::uint64_t max) override {
    return inner_.AppendLog(id, chunk, max);
  }
  Result<std::string> ReadLog(std::int64_t id, std::uint64_t offset,
                              std::uint64_t max_bytes) override {
    return inner_.ReadLog(id, offset, max_bytes);
  }
  Status Finish(std::int64_t id, const catalog::BuildResult& result) override {
    return inner_.Finish(id, result);
  }
  Result<std::optional<catalog::BuildJob>> Get(std::int64_t id) override {
    ++gets_;
    return inner_.Get(id);
  }
  Result<std::vector<catalog::BuildJob>> List(std::int64_t before_id, int limit) override {
    return inner_.List(before_id, limit);
  }
  Result<int> RequeueRunning(std::string_view runner_prefix) override {
    return inner_.RequeueRunning(runner_prefix);
  }
  Result<std::optional<std::string>> GetSourceCommit(std::string_view source) override {
    return inner_.GetSourceCommit(source);
  }
  Status SetSourceCommit(std::string_view source, std::string_view commit) override {
    return inner_.SetSourceCommit(source, commit);
  }
  Result<bool> TryAcquireWatcherLock(std::string_view source, std::string_view holder,
                                     std::int64_t now_ms, std::int64_t lease_ms) override {
    return inner_.TryAcquireWatcherLock(source, holder, now_ms, lease_ms);
  }
  Status ReleaseWatcherLock(std::string_view source, std::string_view holder) override {
    return inner_.ReleaseWatcherLock(source, holder);
  }

 private:
  catalog::BuildQueue& inner_;
  std::atomic<int> gets_{0};
};

class HookRouteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    repo_.Write("README.md", "x\n");
    repo_.WriteModule("py", "py-only", "1.0");
    repo_.WriteModule("both", "both-py", "1.0");
    repo_.Write("both/package.json", R"({"name": "both-js", "version": "1.0.0"})");
    repo_.Commit("start");
    storage::StorageOptions storage_options;
    storage_options.root = tmp_.path() / "data";
    blobs_ = std::move(storage::MakeBlobStore(storage_options).value());
    catalog::CatalogOptions catalog_options;
    catalog_options.sqlite_path = tmp_.path() / "data" / "catalog.db";
    catalog_ = std::move(catalog::MakeCatalog(catalog_options).value());
    queue_ = std::move(catalog::SqliteBuildQueue::Open(catalog_options.sqlite_path).value());
    index_ = std::make_unique<index::Index>(*blobs_, *catalog_);
    auth::AccessOptions access_options;
    access_options.allow = {"127.0.0.0/8"};
    authenticator_ = std::make_unique<auth::Authenticator>(
        std::move(auth::Authenticator::Create(*catalog_, access_options).value()));
    access_ = std::make_unique<app::Access>(*authenticator_);
    config::SourceConfig hooked;
    hooked.name = "hooked";
    hooked.repo = repo_.path().string();
    hooked.webhook_secret = "s3cret";
    config::SourceConfig quiet = hooked;
    quiet.name = "quiet";
    quiet.webhook_secret = "";
    builder_ = std::move(Builder::Create({hooked, quiet}, config::BuilderConfig{},
                                         Builder::Paths{tmp_.path() / "data", ""}, *queue_, *index_,
                                         *authenticator_, "node", nullptr)
                             .value());
    counting_ = std::make_unique<CountingQueue>(*queue_);
    RegisterRoutes(router_, *counting_, builder_.get(), *access_);
  }

  http::Response Post(const std::string& source, const std::string& body,
                      std::vector<http::Header> headers, std::string address = "127.0.0.1") {
    return Send("POST", "/hooks/git/" + source, body, std::move(headers), std::move(address));
  }

  // Runs `target` (a path with an optional ?query) through the router as the server would:
  // the route's guard, then its handler and any blocking continuation.
  http::Response Send(const std::string& method, const std::string& target,
                      const std::string& body = "", std::vector<http::Header> headers = {},
                      std::string address = "127.0.0.1") {
    http::Request request;
    request.method = method;
    request.target = target;
    std::size_t q = target.find('?');
    request.path = target.substr(0, q);
    request.query = q == std::string::npos ? "" : target.substr(q + 1);
    request.headers = std::move(headers);
    request.remote_address = std::move(address);
    request.body.memory = body;
    request.body.size = body.size();
    http::Router::Match match = router_.Find(method, request.path);
    EXPECT_NE(match.route, nullptr) << method << " " << target;
    if (match.route == nullptr) {
      http::Response none;
      none.status = 0;
      return none;
    }
    request.params = match.params;
    if (match.route->options.guard) {
      if (std::optional<http::Response> refused = match.route->options.guard(request)) {
        return std::move(*refused);
      }
    }
    http::Response r = match.route->handler(request);
    while (r.continue_blocking) {
      auto next = std::move(r.continue_blocking);
      r = next();
    }
    return r;
  }

  static http::Header Signed(const std::string& secret, const std::string& body) {
    return {"X-Hub-Signature-256", "sha256=" + HubSignatureHex(secret, body)};
  }

  // An admin token stored in the catalog, as `pipy token create --scope admin` makes it.
  http::Header AdminAuthorization() {
    const std::string secret = auth::NewTokenSecret();
    catalog::TokenRecord token;
    token.name = "admin-" + std::to_string(++tokens_);
    token.hash = auth::HashTokenSecret(secret);
    token.scopes = {"admin"};
    token.created_ms = 1;
    EXPECT_TRUE(catalog_->AddToken(token).ok());
    return {"Authorization", "Bearer " + secret};
  }

  catalog::BuildJob Enqueue(const std::string& module, const std::string& format,
                            std::vector<std::int64_t> waits_for = {}) {
    catalog::NewBuild build;
    build.source = "hooked";
    build.module = module;
    build.format = format;
    build.commit = std::string(40, 'a');
    build.created_ms = 1000;
    build.waits_for = std::move(waits_for);
    Result<catalog::BuildJob> job = queue_->Enqueue(build);
    EXPECT_TRUE(job.has_value());
    return job.value_or(catalog::BuildJob{});
  }

  // Claims the next job (it must be `id`) and ends it so.
  void RunAs(std::int64_t id, catalog::BuildStatus status, std::string message = "",
             std::int64_t blocked_by = 0) {
    Result<std::optional<catalog::BuildJob>> claimed = queue_->ClaimNext("node:0", 1500);
    ASSERT_TRUE(claimed.has_value() && claimed->has_value());
    ASSERT_EQ((*claimed)->id, id);
    catalog::BuildResult result;
    result.status = status;
    result.message = std::move(message);
    result.blocked_by = blocked_by;
    result.finished_ms = 2000;
    ASSERT_TRUE(queue_->Finish(id, result).ok());
  }

  boost::json::value GetJson(const std::string& target) {
    http::Response r = Send("GET", target);
    EXPECT_EQ(r.status, 200) << target << ": " << Body(r);
    boost::system::error_code ec;
    boost::json::value value = boost::json::parse(Body(r), ec);
    EXPECT_FALSE(ec) << Body(r);
    return value;
  }

  static std::string Body(const http::Response& r) {
    const std::string* text = std::get_if<std::string>(&r.body);
    return text == nullptr ? "" : *text;
  }

  pipy::testing::TempDir tmp_;
  testing::TestRepo repo_;
  std::unique_ptr<storage::BlobStore> blobs_;
  std::unique_ptr<catalog::Catalog> catalog_;
  std::unique_ptr<catalog::BuildQueue> queue_;
  std::unique_ptr<index::Index> index_;
  std::unique_ptr<auth::Authenticator> authenticator_;
  std::unique_ptr<app::Access> access_;
  std::unique_ptr<Builder> builder_;
  std::unique_ptr<CountingQueue> counting_;
  http::Router router_;
  int tokens_ = 0;
};

TEST_F(HookRouteTest, UnknownSourcesAnswerExactlyLikeABadSignature) {
  const std::string body = R"({"ref":"refs/heads/main"})";
  http::Response real = Post("hooked", body, {Signed("wrong", body)});
  EXPECT_EQ(real.status, 401);
  std::vector<http::Response> probes;
  probes.push_back(Post("no-such-source", body, {Signed("wrong", body)}));
  probes.push_back(Post("no-such-source", body, {Signed("s3cret", body)}));
  probes.push_back(Post("quiet", body, {Signed("", body)}));
  probes.push_back(Post("no-such-source", body, {}));
  for (const http::Response& probe : probes) {
    EXPECT_EQ(probe.status, real.status);
    EXPECT_EQ(probe.reason, real.reason);
    EXPECT_EQ(Body(probe), Body(real));
    ASSERT_EQ(probe.headers.size(), real.headers.size());
    for (std::size_t i = 0; i < real.headers.size(); ++i) {
      EXPECT_EQ(probe.headers[i].name, real.headers[i].name);
      EXPECT_EQ(probe.headers[i].value, real.headers[i].value);
    }
  }
}

TEST_F(HookRouteTest, AReplayedDeliveryIsAcceptedButFetchesNothing) {
  const std::string body = R"({"ref":"refs/heads/main","after":"abc"})";
  auto fetch = [](const http::Response& r) {
    return boost::json::parse(Body(r)).as_object().at("fetch").as_bool();
  };
  http::Response first =
      Post("hooked", body, {Signed("s3cret", body), {"X-GitHub-Delivery", "d-1"}});
  EXPECT_EQ(first.status, 202);
  EXPECT_TRUE(fetch(first));
  http::Response again =
      Post("hooked", body, {Signed("s3cret", body), {"X-GitHub-Delivery", "d-1"}});
  EXPECT_EQ(again.status, 202);
  EXPECT_FALSE(fetch(again));
  EXPECT_NE(Body(again).find("delivery d-1 was already received"), std::string::npos)
      << Body(again);
  http::Response forged =
      Post("hooked", body, {Signed("s3cret", body), {"X-GitHub-Delivery", "d-9"}});
  EXPECT_FALSE(fetch(forged)) << "the id is not signed; the body is";
  const std::string next = R"({"ref":"refs/heads/main","after":"def"})";
  EXPECT_TRUE(fetch(Post("hooked", next, {Signed("s3cret", next), {"X-GitHub-Delivery", "d-2"}})));
}

TEST_F(HookRouteTest, TheAllowlistAppliesToTheWebhookToo) {
  const std::string body = R"({"ref":"refs/heads/main"})";
  http::Response outside = Post("hooked", body, {Signed("s3cret", body)}, "192.0.2.1");
  EXPECT_EQ(outside.status, 403);
}

using BuildsRouteTest = HookRouteTest;

bool Has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST_F(BuildsRouteTest, BuildJsonCarriesFormatWaitsAndBlocker) {
  catalog::BuildJob core = Enqueue("core", "python");
  catalog::BuildJob web = Enqueue("web", "npm", {core.id});
  RunAs(core.id, catalog::BuildStatus::kFailed, "tests failed");
  RunAs(web.id, catalog::BuildStatus::kSkipped, "its dependency core failed", core.id);

  boost::json::object one = GetJson("/api/builds/" + std::to_string(web.id)).as_object();
  EXPECT_EQ(one.at("format"), "npm");
  EXPECT_EQ(one.at("waits_for"), boost::json::array({core.id}));
  EXPECT_EQ(one.at("blocked_by"), core.id);
  boost::json::object root = GetJson("/api/builds/" + std::to_string(core.id)).as_object();
  EXPECT_EQ(root.at("format"), "python");
  ASSERT_TRUE(root.at("waits_for").is_array()) << "[] when none, never null or absent";
  EXPECT_TRUE(root.at("waits_for").as_array().empty());
  EXPECT_TRUE(root.at("blocked_by").is_null());

  boost::json::array list = GetJson("/api/builds").as_array();
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].as_object(), one) << "the list and the single build agree";
  EXPECT_EQ(list[1].as_object(), root);
  // Every field the builds JSON had before is still there.
  for (const char* key : {"id", "source", "module", "project", "version", "commit", "status",
                          "message", "log_url", "log_bytes", "created_at", "started_at",
                          "finished_at"}) {
    EXPECT_TRUE(one.contains(key)) << key;
  }
  EXPECT_EQ(one.at("status"), "skipped");
  EXPECT_EQ(one.at("message"), "its dependency core failed");
}

TEST_F(BuildsRouteTest, RebuildTakesAnOptionalFormat) {
  const std::string target = "/api/builds";
  auto rebuild = [&](const std::string& body) {
    return Send("POST", target, body, {AdminAuthorization()});
  };
  http::Response npm = rebuild(R"({"source":"hooked","module":"both","format":"npm"})");
  ASSERT_EQ(npm.status, 202) << npm.reason << Body(npm);
  EXPECT_EQ(boost::json::parse(Body(npm)).as_object().at("format"), "npm");
  http::Response python = rebuild(R"({"source":"hooked","module":"both","format":"python"})");
  ASSERT_EQ(python.status, 202) << python.reason << Body(python);
  EXPECT_EQ(boost::json::parse(Body(python)).as_object().at("format"), "python");

  for (const char* bad : {R"("rust")", R"("")", R"("NPM")", "7", "null", R"(["npm"])"}) {
    http::Response r = rebuild(std::string(R"({"source":"hooked","module":"both","format":)") +
                               bad + "}");
    EXPECT_EQ(r.status, 400) << bad;
    EXPECT_TRUE(Has(r.reason + Body(r), "\"format\" must be \"python\" or \"npm\"")) << bad;
  }
  // A folder holding both modules needs the format named; the builder's message says so.
  http::Response ambiguous = rebuild(R"({"source":"hooked","module":"both"})");
  EXPECT_EQ(ambiguous.status, 400) << Body(ambiguous);
  EXPECT_FALSE(ambiguous.reason.empty() && Body(ambiguous).empty());
  // A folder with one module builds it without being told which.
  http::Response only = rebuild(R"({"source":"hooked","module":"py"})");
  ASSERT_EQ(only.status, 202) << only.reason << Body(only);
  EXPECT_EQ(boost::json::parse(Body(only)).as_object().at("format"), "python");
  EXPECT_EQ(queue_->List(0, 100).value().size(), 3u) << "the refused ones enqueued nothing";
}

TEST_F(BuildsRouteTest, BuildPageLinksWhatItWaitedForAndWhatBlockedIt) {
  catalog::BuildJob base = Enqueue("base", "python");
  catalog::BuildJob core = Enqueue("<core>", "python");
  catalog::BuildJob web = Enqueue("web", "npm", {base.id, core.id});
  RunAs(base.id, catalog::BuildStatus::kPassed);
  RunAs(core.id, catalog::BuildStatus::kFailed, "pytest: 1 failed");
  RunAs(web.id, catalog::BuildStatus::kSkipped, "<b>its dependency</b> <core> failed", core.id);

  http::Response r = Send("GET", "/builds/" + std::to_string(web.id));
  ASSERT_EQ(r.status, 200);
  const std::string page = Body(r);
  EXPECT_TRUE(Has(page, "<th>Format</th><td>npm</td>")) << page;
  // The message comes first, in its own box, escaped.
  const std::size_t box = page.find("<div class=\"build-message\">");
  ASSERT_NE(box, std::string::npos) << page;
  EXPECT_LT(box, page.find("<table>"));
  EXPECT_TRUE(Has(page, "&lt;b&gt;its dependency&lt;/b&gt; &lt;core&gt; failed"));
  EXPECT_FALSE(Has(page, "<b>its dependency")) << "HTML in a message is escaped";
  EXPECT_FALSE(Has(page, "<core>")) << "HTML in a module name is escaped";
  // Each waited-for build is linked, with its module and status.
  const std::string base_link = "<a href=\"/builds/" + std::to_string(base.id) + "\">#" +
                                std::to_string(base.id) + "</a> hooked/base";
  const std::string core_link = "<a href=\"/builds/" + std::to_string(core.id) + "\">#" +
                                std::to_string(core.id) + "</a> hooked/&lt;core&gt;";
  const std::size_t waits = page.find("<th>Waited for</th>");
  ASSERT_NE(waits, std::string::npos) << page;
  EXPECT_NE(page.find(base_link, waits), std::string::npos) << page;
  EXPECT_NE(page.find(core_link, waits), std::string::npos) << page;
  EXPECT_NE(page.find("<span class=\"build-passed\">passed</span>", waits), std::string::npos);
  EXPECT_NE(page.find("<span class=\"build-failed\">failed</span>", waits), std::string::npos);
  // The blocking build is linked from the message box.
  const std::size_t blocked = page.find("Blocked by " + core_link);
  EXPECT_NE(blocked, std::string::npos) << page;
  EXPECT_LT(blocked, page.find("<table>"));

  // A failed build's own message is shown as prominently; a build that waited for nothing
  // says so.
  const std::string failed = Body(Send("GET", "/builds/" + std::to_string(core.id)));
  EXPECT_TRUE(Has(failed, "<div class=\"build-message\"><p>pytest: 1 failed</p></div>")) << failed;
  EXPECT_TRUE(Has(failed, "<th>Waited for</th><td><span class=\"muted\">-</span>")) << failed;
  const std::string passed = Body(Send("GET", "/builds/" + std::to_string(base.id)));
  EXPECT_FALSE(Has(passed, "class=\"build-message\"")) << "only failed and skipped builds";
}

TEST_F(BuildsRouteTest, BuildsListShowsFormatsWithoutLookingUpEachRow) {
  catalog::BuildJob core = Enqueue("core", "python");
  catalog::BuildJob util = Enqueue("util", "npm");
  catalog::BuildJob web = Enqueue("web", "npm", {core.id, util.id});
  catalog::BuildJob app = Enqueue("app", "python", {core.id});
  RunAs(core.id, catalog::BuildStatus::kFailed, "tests failed");
  RunAs(util.id, catalog::BuildStatus::kPassed);
  RunAs(web.id, catalog::BuildStatus::kSkipped, "core failed", core.id);
  (void)app;

  const int gets_before = counting_->gets();
  http::Response r = Send("GET", "/builds");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(counting_->gets(), gets_before) << "the list renders from List alone";
  const std::string page = Body(r);
  EXPECT_TRUE(Has(page, "<th>Format</th>")) << page;
  auto row = [&page](const catalog::BuildJob& job) {
    const std::size_t at =
        page.find("<tr><td><a href=\"/builds/" + std::to_string(job.id) + "\">");
    EXPECT_NE(at, std::string::npos);
    return page.substr(at, page.find("</tr>", at) - at);
  };
  EXPECT_TRUE(Has(row(util), "<td>npm</td>")) << row(util);
  EXPECT_TRUE(Has(row(core), "<td>python</td>")) << row(core);
  EXPECT_TRUE(Has(row(web), "waited for 2 builds")) << row(web);
  EXPECT_TRUE(Has(row(app), "waited for 1 build<")) << row(app);
  EXPECT_TRUE(Has(row(web), "blocked by <a href=\"/builds/" + std::to_string(core.id) + "\">#" +
                                std::to_string(core.id) + "</a>"))
      << row(web);
  EXPECT_FALSE(Has(row(core), "waited for"));
}

}  // namespace
}  // namespace pipy::builder
