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

TEST(RecentDeliveriesTest, AReplayedDeliveryIsRecognizedByItsIdOrItsBody) {
  RecentDeliveries seen;
  EXPECT_TRUE(seen.FirstTime("mono", "d-1", R"({"after":"aaa"})"));
  EXPECT_FALSE(seen.FirstTime("mono", "d-1", R"({"after":"aaa"})")) << "the same delivery";
  EXPECT_FALSE(seen.FirstTime("mono", "d-1", R"({"after":"bbb"})")) << "the same id";
  // The id is not signed: a replay with a fresh id still carries the same signed body.
  EXPECT_FALSE(seen.FirstTime("mono", "d-2", R"({"after":"aaa"})"));
  EXPECT_FALSE(seen.FirstTime("mono", "", R"({"after":"aaa"})"));
  EXPECT_TRUE(seen.FirstTime("mono", "d-3", R"({"after":"ccc"})"));
  EXPECT_TRUE(seen.FirstTime("mono", "", R"({"after":"ddd"})")) << "no id: the body decides";
  // Each source has its own memory.
  EXPECT_TRUE(seen.FirstTime("other", "d-1", R"({"after":"aaa"})"));
}

TEST(RecentDeliveriesTest, OnlyTheLastDeliveriesOfEachSourceAreRemembered) {
  RecentDeliveries seen(3);
  for (int i = 0; i < 4; ++i) {
    EXPECT_TRUE(seen.FirstTime("mono", "d-" + std::to_string(i), "body " + std::to_string(i)));
  }
  EXPECT_TRUE(seen.FirstTime("mono", "d-0", "body 0")) << "the oldest was forgotten";
  EXPECT_FALSE(seen.FirstTime("mono", "d-2", "body 2"));
  EXPECT_FALSE(seen.FirstTime("mono", "d-3", "body 3"));
}

}  // namespace
}  // namespace pipy::builder
