// The webhook route with a real Builder (not started: no thread polls), a real git
// repository, SQLite queue and index.
#include "builder/routes.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "builder/test_repo.h"
#include "builder/webhook.h"
#include "catalog/factory.h"
#include "catalog/sqlite_build_queue.h"
#include "storage/factory.h"
#include "testing/dist_builder.h"

namespace pipy::builder {
namespace {

class HookRouteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    repo_.Write("README.md", "x\n");
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
    RegisterRoutes(router_, *queue_, builder_.get(), *access_);
  }

  http::Response Post(const std::string& source, const std::string& body,
                      std::vector<http::Header> headers, std::string address = "127.0.0.1") {
    http::Request request;
    request.method = "POST";
    request.path = "/hooks/git/" + source;
    request.target = request.path;
    request.headers = std::move(headers);
    request.remote_address = std::move(address);
    request.body.memory = body;
    request.body.size = body.size();
    http::Router::Match match = router_.Find("POST", request.path);
    EXPECT_NE(match.route, nullptr);
    request.params = match.params;
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
  http::Router router_;
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

}  // namespace
}  // namespace pipy::builder
