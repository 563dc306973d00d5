#include "app/access.h"

#include <gtest/gtest.h>

#include "catalog/factory.h"
#include "testing/dist_builder.h"

namespace pipy::app {
namespace {

class AccessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    catalog::CatalogOptions options;
    options.sqlite_path = tmp_.path() / "catalog.db";
    auto catalog = catalog::MakeCatalog(options);
    ASSERT_TRUE(catalog) << catalog.error().ToString();
    catalog_ = std::move(*catalog);
    token_ = auth::NewTokenSecret();
    catalog::TokenRecord record;
    record.name = "ci";
    record.hash = auth::HashTokenSecret(token_);
    record.scopes = {"upload:*"};
    ASSERT_TRUE(catalog_->AddToken(record).ok());
  }

  auth::Authenticator Make(std::vector<std::string> allow, bool anonymous_read) {
    auth::AccessOptions options;
    options.allow = std::move(allow);
    options.anonymous_read = anonymous_read;
    auto made = auth::Authenticator::Create(*catalog_, options);
    EXPECT_TRUE(made);
    return std::move(*made);
  }

  static http::Request From(std::string address, std::string bearer = "") {
    http::Request request;
    request.method = "GET";
    request.path = "/simple/";
    request.remote_address = std::move(address);
    if (!bearer.empty()) {
      request.headers.push_back({"Authorization", "Bearer " + bearer});
    }
    return request;
  }

  pipy::testing::TempDir tmp_;
  std::unique_ptr<catalog::Catalog> catalog_;
  std::string token_;
};

TEST_F(AccessTest, AllowlistDecidesBeforeTokens) {
  auth::Authenticator auth = Make({"10.0.0.0/8"}, true);
  Access access(auth);
  EXPECT_TRUE(access.ForRead(From("10.1.2.3")));
  auto outside = access.ForRead(From("192.0.2.1"));
  ASSERT_FALSE(outside);
  EXPECT_EQ(outside.error().code(), StatusCode::kPermissionDenied);
  // A valid token does not open the allowlist...
  auto with_token = access.ForWrite(From("192.0.2.1", token_));
  ASSERT_FALSE(with_token);
  EXPECT_EQ(with_token.error().code(), StatusCode::kPermissionDenied);
  // ...and a bad token outside it is a 403 too, not a hint that tokens are checked.
  auto bad = access.ForRead(From("192.0.2.1", "pipy_nope"));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code(), StatusCode::kPermissionDenied);
}

TEST_F(AccessTest, AnonymousReadsAndWrites) {
  auth::Authenticator open = Make({}, true);
  EXPECT_TRUE(Access(open).ForRead(From("192.0.2.1")));
  auto write = Access(open).ForWrite(From("192.0.2.1"));
  ASSERT_FALSE(write);
  EXPECT_EQ(write.error().code(), StatusCode::kUnauthenticated);
  auth::Authenticator closed = Make({}, false);
  auto read = Access(closed).ForRead(From("192.0.2.1"));
  ASSERT_FALSE(read);
  EXPECT_EQ(read.error().code(), StatusCode::kUnauthenticated);
  EXPECT_TRUE(Access(closed).ForRead(From("192.0.2.1", token_)));
}

TEST_F(AccessTest, InternalCredentialReadsPrivatelyButDoesNotOpenTheAllowlist) {
  auth::Authenticator auth = Make({"10.0.0.0/8"}, false);
  std::string secret = auth::NewTokenSecret();
  auth::Principal builder;
  builder.token_name = "builder:1";
  builder.scopes = {"read"};
  auth.AddInternalToken(secret, builder);
  Access access(auth);
  auto who = access.ForRead(From("10.0.0.1", secret));
  ASSERT_TRUE(who) << who.error().ToString();
  EXPECT_TRUE(who->internal);
  // The builder's credential is a token like any other: it does not open the allowlist
  // (it used to, so whoever read it from a build's environment had a key to everything).
  auto outside = access.ForRead(From("127.0.0.1", secret));
  ASSERT_FALSE(outside);
  EXPECT_EQ(outside.error().code(), StatusCode::kPermissionDenied);
}

TEST_F(AccessTest, TooManyFailedAuthenticationsGet429WhileValidTokensKeepWorking) {
  auth::Authenticator auth = Make({}, true);
  std::int64_t now = 0;
  auth::FailureLimiter::Options limits;
  limits.now = [&now] { return now; };
  Access access(auth, limits);
  for (int i = 0; i < 20; ++i) {
    auto bad = access.ForRead(From("10.0.0.1", "not-a-token-" + std::to_string(i)));
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().code(), StatusCode::kUnauthenticated) << i;
  }
  auto limited = access.ForWrite(From("10.0.0.1", "still-guessing"));
  ASSERT_FALSE(limited);
  EXPECT_EQ(limited.error().code(), StatusCode::kTooManyRequests);
  // npm's login sends the token as a password: the same count.
  auto login = access.ForSecret(From("10.0.0.1"), "guess");
  ASSERT_FALSE(login);
  EXPECT_EQ(login.error().code(), StatusCode::kTooManyRequests);
  // The valid token from the same address, and anonymous reads, are not slowed.
  EXPECT_TRUE(access.ForWrite(From("10.0.0.1", token_)));
  EXPECT_TRUE(access.ForSecret(From("10.0.0.1"), token_));
  EXPECT_TRUE(access.ForRead(From("10.0.0.1")));
  // Other addresses are not affected; a minute without failures lifts it.
  auto other = access.ForRead(From("10.0.0.2", "wrong"));
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().code(), StatusCode::kUnauthenticated);
  now += 61'000;
  auto later = access.ForRead(From("10.0.0.1", "wrong"));
  ASSERT_FALSE(later);
  EXPECT_EQ(later.error().code(), StatusCode::kUnauthenticated);
}

}  // namespace
}  // namespace pipy::app
