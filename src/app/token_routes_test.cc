#include "app/token_routes.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "catalog/factory.h"
#include "testing/temp_dir.h"

namespace pipy::app {
namespace {

constexpr std::int64_t kNow = 1'700'000'000'000;  // 2023-11-14T22:13:20Z

class TokenRoutesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    catalog::CatalogOptions options;
    options.sqlite_path = tmp_.path() / "catalog.db";
    auto catalog = catalog::MakeCatalog(options);
    ASSERT_TRUE(catalog) << catalog.error().ToString();
    catalog_ = std::move(*catalog);
    admin_ = Add("root", {"admin"});
    reader_ = Add("reader", {"read", "upload:*"});
    auto made = auth::Authenticator::Create(*catalog_, {}, [this] { return now_; });
    ASSERT_TRUE(made);
    authenticator_ = std::make_unique<auth::Authenticator>(std::move(*made));
    access_ = std::make_unique<Access>(*authenticator_);
    RegisterTokenRoutes(router_, *catalog_, *access_, [this] { return now_; });
  }

  std::string Add(const std::string& name, std::vector<std::string> scopes) {
    std::string secret = auth::NewTokenSecret();
    catalog::TokenRecord record;
    record.name = name;
    record.hash = auth::HashTokenSecret(secret);
    record.scopes = std::move(scopes);
    record.created_ms = kNow - 1000;
    EXPECT_TRUE(catalog_->AddToken(record).ok());
    return secret;
  }

  // Runs the request through the router as the server would: guard, then handler.
  http::Response Send(const std::string& method, const std::string& path, const std::string& secret,
                      const std::string& body = "") {
    http::Request request;
    request.method = method;
    request.target = path;
    request.path = path;
    request.remote_address = "127.0.0.1";
    if (!secret.empty()) {
      request.headers.push_back({"Authorization", "Bearer " + secret});
    }
    request.body.memory = body;
    request.body.size = body.size();
    http::Router::Match match = router_.Find(method, path);
    EXPECT_NE(match.route, nullptr) << method << " " << path;
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

  static std::string Body(const http::Response& r) {
    const std::string* text = std::get_if<std::string>(&r.body);
    return text == nullptr ? "" : *text;
  }

  static boost::json::value Json(const http::Response& r) {
    boost::system::error_code ec;
    boost::json::value value = boost::json::parse(Body(r), ec);
    EXPECT_FALSE(ec) << Body(r);
    return value;
  }

  pipy::testing::TempDir tmp_{"pipy-token-routes"};
  std::unique_ptr<catalog::Catalog> catalog_;
  std::unique_ptr<auth::Authenticator> authenticator_;
  std::unique_ptr<Access> access_;
  http::Router router_;
  std::int64_t now_ = kNow;
  std::string admin_;
  std::string reader_;
};

TEST_F(TokenRoutesTest, OnlyAdminsMayUseTheApi) {
  const std::string body = R"({"name":"x","scopes":["read"]})";
  for (const auto& [method, path] : std::vector<std::pair<std::string, std::string>>{
           {"GET", "/api/tokens"}, {"POST", "/api/tokens"}, {"DELETE", "/api/tokens/reader"}}) {
    EXPECT_EQ(Send(method, path, "", body).status, 401) << method << " " << path;
    EXPECT_EQ(Send(method, path, "pipy_unknown", body).status, 401) << method << " " << path;
    EXPECT_EQ(Send(method, path, reader_, body).status, 403) << method << " " << path;
  }
  // Nothing was created nor revoked by the refused calls.
  auto tokens = catalog_->ListTokens();
  ASSERT_TRUE(tokens.has_value());
  ASSERT_EQ(tokens->size(), 2u);
  for (const catalog::TokenRecord& token : *tokens) {
    EXPECT_FALSE(token.revoked) << token.name;
  }
}

TEST_F(TokenRoutesTest, CreateAnswersTheSecretOnceAndItWorks) {
  http::Response r = Send("POST", "/api/tokens", admin_,
                          R"({"name":"deploy","scopes":["upload:acme-*","read"],"expires":"90d"})");
  ASSERT_EQ(r.status, 201) << Body(r);
  boost::json::object created = Json(r).as_object();
  EXPECT_EQ(created.at("name"), "deploy");
  EXPECT_EQ(created.at("scopes"), (boost::json::array{"upload:acme-*", "read"}));
  // 90 days after 2023-11-14T22:13:20Z.
  EXPECT_EQ(created.at("expires_at"), "2024-02-12T22:13:20.000Z");
  const std::string secret(created.at("secret").as_string());
  ASSERT_TRUE(secret.starts_with("pipy_")) << secret;

  auto who = authenticator_->Authenticate("Bearer " + secret);
  ASSERT_TRUE(who) << who.error().ToString();
  EXPECT_EQ(who->token_name, "deploy");
  EXPECT_TRUE(who->CanUpload("acme-logger"));

  // The listing shows it without secret or hash.
  r = Send("GET", "/api/tokens", admin_);
  ASSERT_EQ(r.status, 200) << Body(r);
  const std::string listing = Body(r);
  EXPECT_EQ(listing.find(secret), std::string::npos);
  EXPECT_EQ(listing.find(auth::HashTokenSecret(secret)), std::string::npos);
  EXPECT_EQ(listing.find("secret"), std::string::npos);
  EXPECT_EQ(listing.find("hash"), std::string::npos);
  boost::json::array list = Json(r).as_array();
  ASSERT_EQ(list.size(), 3u);
  const boost::json::object& deploy = list[0].as_object();
  EXPECT_EQ(deploy.at("name"), "deploy");
  EXPECT_EQ(deploy.at("expires_at"), "2024-02-12T22:13:20.000Z");
  EXPECT_EQ(deploy.at("created_at"), "2023-11-14T22:13:20.000Z");
  EXPECT_EQ(deploy.at("revoked"), false);
  // Used once by the Authenticate above.
  EXPECT_EQ(deploy.at("last_used_at"), "2023-11-14T22:13:20.000Z");
  EXPECT_EQ(list[1].as_object().at("name"), "reader");
  EXPECT_TRUE(list[1].as_object().at("expires_at").is_null());
}

TEST_F(TokenRoutesTest, CreateRefusesDuplicatesAndBadInput) {
  EXPECT_EQ(Send("POST", "/api/tokens", admin_, R"({"name":"reader","scopes":["read"]})").status,
            409);
  const std::string bad[] = {
      "",
      "not json",
      "[]",
      R"({"scopes":["read"]})",
      R"({"name":"x"})",
      R"({"name":"x","scopes":[]})",
      R"({"name":"x","scopes":["write"]})",
      R"({"name":"x","scopes":["upload:"]})",
      R"({"name":"x","scopes":[1]})",
      R"({"name":"x","scopes":"read"})",
      R"({"name":"","scopes":["read"]})",
      R"({"name":"a/b","scopes":["read"]})",
      R"({"name":"a b","scopes":["read"]})",
      R"({"name":"x","scopes":["read"],"expires":"5w"})",
      R"({"name":"x","scopes":["read"],"expires":"0s"})",
      R"({"name":"x","scopes":["read"],"expires":"90"})",
      R"({"name":"x","scopes":["read"],"expires":90})",
  };
  for (const std::string& body : bad) {
    http::Response r = Send("POST", "/api/tokens", admin_, body);
    EXPECT_EQ(r.status, 400) << body << ": " << Body(r);
  }
  auto tokens = catalog_->ListTokens();
  ASSERT_TRUE(tokens.has_value());
  EXPECT_EQ(tokens->size(), 2u);
}

TEST_F(TokenRoutesTest, RevokeStopsTheTokenAtOnce) {
  ASSERT_TRUE(authenticator_->Authenticate("Bearer " + reader_));
  http::Response r = Send("DELETE", "/api/tokens/reader", admin_);
  ASSERT_EQ(r.status, 200) << Body(r);
  auto who = authenticator_->Authenticate("Bearer " + reader_);
  ASSERT_FALSE(who);
  EXPECT_EQ(who.error().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(Send("DELETE", "/api/tokens/nobody", admin_).status, 404);
  r = Send("GET", "/api/tokens", admin_);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(Json(r).as_array()[0].as_object().at("revoked"), true);
}

TEST_F(TokenRoutesTest, AnExpiredTokenIsRefusedSayingSo) {
  http::Response r =
      Send("POST", "/api/tokens", admin_, R"({"name":"brief","scopes":["admin"],"expires":"1s"})");
  ASSERT_EQ(r.status, 201) << Body(r);
  const std::string secret(Json(r).as_object().at("secret").as_string());
  EXPECT_EQ(Send("GET", "/api/tokens", secret).status, 200);
  now_ += 1000;
  r = Send("GET", "/api/tokens", secret);
  EXPECT_EQ(r.status, 401);
  EXPECT_NE(Body(r).find("token 'brief' expired at 2023-11-14T22:13:21.000Z"), std::string::npos)
      << Body(r);
}

}  // namespace
}  // namespace pipy::app
