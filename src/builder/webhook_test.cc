#include "builder/webhook.h"

#include <gtest/gtest.h>

namespace pipy::builder {
namespace {

TEST(WebhookTest, SignatureMatchesGitHubsExample) {
  // GitHub's documented test vector: secret "It's a Secret to Everybody", payload
  // "Hello, World!".
  const std::string expected =
      "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
  EXPECT_EQ(HubSignatureHex("It's a Secret to Everybody", "Hello, World!"), expected);
  EXPECT_TRUE(
      VerifyHubSignature("It's a Secret to Everybody", "Hello, World!", "sha256=" + expected));
  std::string upper = expected;
  for (char& c : upper) {
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  EXPECT_TRUE(
      VerifyHubSignature("It's a Secret to Everybody", "Hello, World!", "sha256=" + upper));
}

TEST(WebhookTest, WrongMissingOrMalformedSignaturesFail) {
  const std::string good = "sha256=" + HubSignatureHex("s3cret", "{}");
  EXPECT_TRUE(VerifyHubSignature("s3cret", "{}", good));
  EXPECT_FALSE(VerifyHubSignature("other", "{}", good));
  EXPECT_FALSE(VerifyHubSignature("s3cret", "{ }", good));
  EXPECT_FALSE(VerifyHubSignature("s3cret", "{}", ""));
  EXPECT_FALSE(VerifyHubSignature("s3cret", "{}", good.substr(7)));
  EXPECT_FALSE(VerifyHubSignature("s3cret", "{}", good.substr(0, good.size() - 1)));
  EXPECT_FALSE(VerifyHubSignature("", "{}", "sha256=" + HubSignatureHex("", "{}")));
}

TEST(WebhookTest, PushedRefIsReadFromThePayload) {
  EXPECT_EQ(PushedRef(R"({"ref":"refs/heads/main","after":"abc"})"), "refs/heads/main");
  EXPECT_FALSE(PushedRef(R"({"zen":"ping"})").has_value());
  EXPECT_FALSE(PushedRef("not json").has_value());
  EXPECT_FALSE(PushedRef(R"({"ref":3})").has_value());
}

}  // namespace
}  // namespace pipy::builder
