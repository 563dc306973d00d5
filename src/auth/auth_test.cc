#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "auth/authenticator.h"
#include "auth/principal.h"
#include "catalog/factory.h"
#include "testing/temp_dir.h"

namespace pipy::auth {
namespace {

TEST(GlobMatch, Basics) {
  EXPECT_TRUE(GlobMatch("*", "anything"));
  EXPECT_TRUE(GlobMatch("*", ""));
  EXPECT_TRUE(GlobMatch("acme-*", "acme-logger"));
  EXPECT_TRUE(GlobMatch("acme-*", "acme-"));
  EXPECT_FALSE(GlobMatch("acme-*", "acme"));
  EXPECT_FALSE(GlobMatch("acme-*", "evil-acme-logger"));
  EXPECT_TRUE(GlobMatch("@acme/*", "@acme/logger"));
  EXPECT_FALSE(GlobMatch("@acme/*", "@other/logger"));
  EXPECT_TRUE(GlobMatch("a?c", "abc"));
  EXPECT_FALSE(GlobMatch("a?c", "ac"));
  EXPECT_TRUE(GlobMatch("*-core-*", "acme-core-utils"));
  EXPECT_FALSE(GlobMatch("exact", "exact-not"));
  EXPECT_TRUE(GlobMatch("exact", "exact"));
  // Pathological pattern terminates quickly.
  EXPECT_FALSE(GlobMatch("*a*a*a*a*a*a*a*a*b", std::string(200, 'a')));
}

TEST(Principal, Scopes) {
  Principal p;
  p.anonymous = false;
  p.scopes = {"upload:acme-*"};
  EXPECT_TRUE(p.CanUpload("acme-logger"));
  EXPECT_FALSE(p.CanUpload("requests"));
  EXPECT_FALSE(p.IsAdmin());
  EXPECT_TRUE(p.CanRead());
  p.scopes = {"read"};
  EXPECT_FALSE(p.CanUpload("acme-logger"));
  p.scopes = {"admin"};
  EXPECT_TRUE(p.CanUpload("anything"));
  EXPECT_TRUE(p.IsAdmin());
  Principal anonymous;
  EXPECT_FALSE(anonymous.CanRead());
  EXPECT_FALSE(anonymous.CanUpload("x"));
}

TEST(Scope, Validation) {
  EXPECT_TRUE(IsValidScope("read"));
  EXPECT_TRUE(IsValidScope("admin"));
  EXPECT_TRUE(IsValidScope("upload:*"));
  EXPECT_TRUE(IsValidScope("upload:@acme/*"));
  EXPECT_FALSE(IsValidScope("upload:"));
  EXPECT_FALSE(IsValidScope("write"));
  EXPECT_FALSE(IsValidScope(""));
  // Normalized names are lowercase without spaces: such a glob would never match.
  EXPECT_FALSE(IsValidScope("upload:Acme.Logger"));
  EXPECT_FALSE(IsValidScope("upload:@ACME/*"));
  EXPECT_FALSE(IsValidScope("upload:acme *"));
  EXPECT_TRUE(IsValidScope("upload:lodash.merge"));  // an npm name keeps its dot
}

TEST(Cidr, V4AndV6) {
  auto net = Cidr::Parse("10.0.0.0/8");
  ASSERT_TRUE(net);
  EXPECT_TRUE(net->Contains("10.1.2.3"));
  EXPECT_FALSE(net->Contains("11.0.0.1"));
  EXPECT_TRUE(net->Contains("::ffff:10.9.9.9"));  // IPv4-mapped
  EXPECT_FALSE(net->Contains("::1"));
  auto host = Cidr::Parse("127.0.0.1");
  ASSERT_TRUE(host);
  EXPECT_TRUE(host->Contains("127.0.0.1"));
  EXPECT_FALSE(host->Contains("127.0.0.2"));
  auto odd = Cidr::Parse("192.168.4.0/22");
  ASSERT_TRUE(odd);
  EXPECT_TRUE(odd->Contains("192.168.7.255"));
  EXPECT_FALSE(odd->Contains("192.168.8.0"));
  auto v6 = Cidr::Parse("fd00::/8");
  ASSERT_TRUE(v6);
  EXPECT_TRUE(v6->Contains("fd12:3456::1"));
  EXPECT_FALSE(v6->Contains("fe80::1"));
  EXPECT_FALSE(v6->Contains("10.0.0.1"));
  auto any = Cidr::Parse("0.0.0.0/0");
  ASSERT_TRUE(any);
  EXPECT_TRUE(any->Contains("8.8.8.8"));
  EXPECT_FALSE(v6->Contains("garbage"));
}

TEST(Cidr, RejectsGarbage) {
  for (const char* bad : {"", "10.0.0.0/33", "10.0.0/8", "abc", "10.0.0.0/", "::1/129",
                          "10.0.0.0/8x", "1.2.3.4/-1"}) {
    EXPECT_FALSE(Cidr::Parse(bad)) << bad;
  }
}

TEST(Token, SecretsAreRandomAndLongEnough) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    std::string secret = NewTokenSecret();
    EXPECT_EQ(secret.size(), 5u + 43u);  // "pipy_" + 256 bits in base64url
    EXPECT_TRUE(seen.insert(secret).second);
  }
  EXPECT_EQ(HashTokenSecret("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

class AuthenticatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    catalog::CatalogOptions options;
    options.sqlite_path = tmp_.path() / "catalog.db";
    auto made = catalog::MakeCatalog(options);
    ASSERT_TRUE(made) << made.error().ToString();
    catalog_ = std::move(*made);
    secret_ = NewTokenSecret();
    catalog::TokenRecord token;
    token.name = "ci";
    token.hash = HashTokenSecret(secret_);
    token.scopes = {"upload:acme-*"};
    ASSERT_TRUE(catalog_->AddToken(token).ok());
  }

  Authenticator Make(AccessOptions options = {}) {
    auto made = Authenticator::Create(*catalog_, std::move(options));
    EXPECT_TRUE(made);
    return std::move(*made);
  }

  static std::string Basic(std::string_view user_password) {
    static constexpr char kB64[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    std::size_t i = 0;
    for (; i + 2 < user_password.size(); i += 3) {
      std::uint32_t n = (std::uint8_t(user_password[i]) << 16) |
                        (std::uint8_t(user_password[i + 1]) << 8) | std::uint8_t(user_password[i + 2]);
      out += {kB64[n >> 18], kB64[(n >> 12) & 63], kB64[(n >> 6) & 63], kB64[n & 63]};
    }
    std::size_t rest = user_password.size() - i;
    if (rest == 1) {
      std::uint32_t n = std::uint8_t(user_password[i]) << 16;
      out += {kB64[n >> 18], kB64[(n >> 12) & 63], '=', '='};
    } else if (rest == 2) {
      std::uint32_t n = (std::uint8_t(user_password[i]) << 16) | (std::uint8_t(user_password[i + 1]) << 8);
      out += {kB64[n >> 18], kB64[(n >> 12) & 63], kB64[(n >> 6) & 63], '='};
    }
    return "Basic " + out;
  }

  pipy::testing::TempDir tmp_{"pipy-auth"};  // before catalog_, which keeps its database open
  std::unique_ptr<catalog::Catalog> catalog_;
  std::string secret_;
};

TEST_F(AuthenticatorTest, NoHeaderIsAnonymous) {
  auto auth = Make();
  auto p = auth.Authenticate(std::nullopt);
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->anonymous);
}

TEST_F(AuthenticatorTest, BasicAndBearerResolveTheToken) {
  auto auth = Make();
  for (const std::string& header : {Basic("__token__:" + secret_), "Bearer " + secret_,
                                    "bearer  " + secret_, Basic("someone:" + secret_)}) {
    auto p = auth.Authenticate(header);
    ASSERT_TRUE(p) << header << ": " << p.error().ToString();
    EXPECT_FALSE(p->anonymous);
    EXPECT_EQ(p->token_name, "ci");
    EXPECT_TRUE(p->CanUpload("acme-x"));
    EXPECT_FALSE(p->CanUpload("other"));
  }
}

TEST_F(AuthenticatorTest, BadCredentialsAreUnauthenticated) {
  auto auth = Make();
  for (const std::string& header :
       {std::string("Bearer pipy_wrong"), Basic("__token__:nope"), std::string("Basic !!!!"),
        std::string("Basic"), std::string("Digest abc"), Basic("__token__:"),
        std::string("Bearer "), std::string("Basic ===="), std::string("Basic ="),
        std::string("Basic A==="), std::string("Basic X190b2tlbl9f=Og==")}) {
    auto p = auth.Authenticate(header);
    ASSERT_FALSE(p) << header;
    EXPECT_EQ(p.error().code(), StatusCode::kUnauthenticated) << header;
  }
}

TEST_F(AuthenticatorTest, RevokedTokenStopsWorkingAtOnce) {
  auto auth = Make();
  ASSERT_TRUE(auth.Authenticate("Bearer " + secret_));
  ASSERT_TRUE(catalog_->RevokeToken("ci").ok());
  auto p = auth.Authenticate("Bearer " + secret_);
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().code(), StatusCode::kUnauthenticated);
}

TEST_F(AuthenticatorTest, ExpiredTokenIsRefusedSayingWhen) {
  catalog::TokenRecord token;
  token.name = "shortlived";
  const std::string secret = NewTokenSecret();
  token.hash = HashTokenSecret(secret);
  token.scopes = {"read"};
  token.expires_ms = 1'700'000'000'000;  // 2023-11-14T22:13:20Z
  ASSERT_TRUE(catalog_->AddToken(token).ok());
  std::int64_t now = token.expires_ms - 1;
  auto made = Authenticator::Create(*catalog_, {}, [&] { return now; });
  ASSERT_TRUE(made);
  auto p = made->Authenticate("Bearer " + secret);
  ASSERT_TRUE(p) << p.error().ToString();
  EXPECT_EQ(p->token_name, "shortlived");
  now = token.expires_ms;
  p = made->Authenticate("Bearer " + secret);
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(p.error().message(), "token 'shortlived' expired at 2023-11-14T22:13:20.000Z");
  // A token without expiry (expires_ms 0) still works at any time.
  EXPECT_TRUE(made->Authenticate("Bearer " + secret_));
}

// The last use reaches the catalog at most once a minute per token: requests in between
// write nothing, and another node sees the stored stamp and does not write either.
TEST_F(AuthenticatorTest, LastUseIsWrittenAtMostOnceAMinute) {
  auto last_used = [&] {
    auto found = catalog_->FindTokenByHash(HashTokenSecret(secret_));
    EXPECT_TRUE(found.has_value() && found->has_value());
    return (found.has_value() && found->has_value()) ? (**found).last_used_ms : -1;
  };
  const std::int64_t start = 1'700'000'000'000;
  std::int64_t now = start;
  auto made = Authenticator::Create(*catalog_, {}, [&] { return now; });
  ASSERT_TRUE(made);
  ASSERT_TRUE(made->Authenticate("Bearer " + secret_));
  EXPECT_EQ(last_used(), start);
  auto seq = catalog_->ChangeSequence();
  ASSERT_TRUE(seq.has_value());
  for (int i = 1; i <= 59; ++i) {
    now = start + i * 1000;
    ASSERT_TRUE(made->Authenticate("Bearer " + secret_));
  }
  EXPECT_EQ(last_used(), start);
  now = start + kLastUseIntervalMs;
  ASSERT_TRUE(made->Authenticate("Bearer " + secret_));
  EXPECT_EQ(last_used(), start + kLastUseIntervalMs);

  // Another node, fresh memory: the stamp in the catalog is recent, so it writes nothing.
  auto other = Authenticator::Create(*catalog_, {}, [&] { return now; });
  ASSERT_TRUE(other);
  now = start + kLastUseIntervalMs + 30'000;
  ASSERT_TRUE(other->Authenticate("Bearer " + secret_));
  EXPECT_EQ(last_used(), start + kLastUseIntervalMs);
  // Stamping the last use is not a change caches care about.
  auto seq_after = catalog_->ChangeSequence();
  ASSERT_TRUE(seq_after.has_value());
  EXPECT_EQ(*seq_after, *seq);
}

TEST_F(AuthenticatorTest, Allowlist) {
  EXPECT_TRUE(Make().AddressAllowed("203.0.113.9"));  // empty list allows all
  AccessOptions options;
  options.allow = {"10.0.0.0/8", "::1"};
  auto auth = Make(options);
  EXPECT_TRUE(auth.AddressAllowed("10.2.3.4"));
  EXPECT_TRUE(auth.AddressAllowed("::1"));
  EXPECT_FALSE(auth.AddressAllowed("127.0.0.1"));
  AccessOptions bad;
  bad.allow = {"10.0.0.0/99"};
  auto made = Authenticator::Create(*catalog_, bad);
  ASSERT_FALSE(made);
  EXPECT_NE(made.error().message().find("10.0.0.0/99"), std::string::npos);
}

}  // namespace
}  // namespace pipy::auth

namespace pipy::auth {
namespace {

TEST_F(AuthenticatorTest, InternalTokensResolveWithoutTheCatalog) {
  auto auth = Make();
  std::string secret = NewTokenSecret();
  Principal builder;
  builder.token_name = "builder";
  builder.scopes = {"read"};
  auth.AddInternalToken(secret, builder);
  auto p = auth.Authenticate("Bearer " + secret);
  ASSERT_TRUE(p) << p.error().ToString();
  EXPECT_TRUE(p->internal);
  EXPECT_FALSE(p->anonymous);
  EXPECT_EQ(p->token_name, "builder");
  EXPECT_FALSE(p->CanUpload("acme-x"));
  // Nothing was written: another process sharing the catalog does not know it.
  auto other = Authenticator::Create(*catalog_, {});
  ASSERT_TRUE(other);
  auto elsewhere = other->Authenticate("Bearer " + secret);
  ASSERT_FALSE(elsewhere);
  EXPECT_EQ(elsewhere.error().code(), StatusCode::kUnauthenticated);
  // Catalog tokens are never internal.
  auto regular = auth.Authenticate("Bearer " + secret_);
  ASSERT_TRUE(regular);
  EXPECT_FALSE(regular->internal);
}

TEST_F(AuthenticatorTest, RemovedInternalTokensNoLongerAuthenticate) {
  auto auth = Make();
  std::string first = NewTokenSecret();
  std::string second = NewTokenSecret();
  Principal builder;
  builder.token_name = "builder:7";
  builder.scopes = {"read"};
  auth.AddInternalToken(first, builder);
  auth.AddInternalToken(second, builder);
  auth.RemoveInternalToken(first);
  auth.RemoveInternalToken("pipy_never_added");  // ignored
  auto gone = auth.Authenticate("Bearer " + first);
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().code(), StatusCode::kUnauthenticated);
  EXPECT_TRUE(auth.Authenticate("Bearer " + second));
  // A moved Authenticator keeps its internal tokens (Create returns it by value).
  Authenticator moved = std::move(auth);
  EXPECT_TRUE(moved.Authenticate("Bearer " + second));
}

}  // namespace
}  // namespace pipy::auth
