#include "core/base64.h"

#include <gtest/gtest.h>

#include <optional>
#include <random>
#include <string>
#include <vector>

namespace pipy {
namespace {

// RFC 4648 section 10.
TEST(Base64Test, RfcVectorsRoundTrip) {
  const std::pair<const char*, const char*> kVectors[] = {
      {"", ""},         {"f", "Zg=="},         {"fo", "Zm8="},         {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, encoded] : kVectors) {
    EXPECT_EQ(Base64Encode(plain), encoded);
    EXPECT_EQ(Base64Decode(encoded), std::optional<std::string>(plain)) << encoded;
  }
}

TEST(Base64Test, BasicCredentialsDecode) {
  EXPECT_EQ(Base64Decode("X190b2tlbl9fOnNlY3JldA=="), "__token__:secret");
}

// "====" made the old decoder subtract more padding than it had decoded (a 500 on every
// route that checks credentials).
TEST(Base64Test, RefusesMalformedPadding) {
  for (const char* bad : {"====", "=", "==", "===", "A===", "AB=C", "A=BC", "Zg=A", "Zg==Zg==",
                          "Zm9v====", "Zm9"}) {
    EXPECT_EQ(Base64Decode(bad), std::nullopt) << bad;
  }
}

TEST(Base64Test, RefusesBytesOutsideTheAlphabet) {
  for (const char* bad : {"Zm9v YmFy", "Zm9v\nYmFy", "Zm9-", "Zm9_", "Zm9v*==="}) {
    EXPECT_EQ(Base64Decode(bad), std::nullopt) << bad;
  }
  EXPECT_EQ(Base64Decode(std::string_view("Zm9\0", 4)), std::nullopt);
}

TEST(Base64Test, RefusesNonCanonicalTrailingBits) {
  EXPECT_EQ(Base64Decode("Zh=="), std::nullopt);  // 'h' leaves non-zero bits after "f"
  EXPECT_EQ(Base64Decode("Zm9="), std::nullopt);
}

TEST(Base64Test, RandomBytesRoundTrip) {
  std::mt19937 rng(42);
  for (int i = 0; i < 2000; ++i) {
    std::string bytes(rng() % 40, '\0');
    for (char& c : bytes) {
      c = static_cast<char>(rng());
    }
    EXPECT_EQ(Base64Decode(Base64Encode(bytes)), bytes);
  }
}

// Decodes `text` through Base64Decoder in pieces cut at the given sizes (repeating).
std::optional<std::string> DecodeInPieces(std::string_view text, std::vector<std::size_t> cuts) {
  Base64Decoder decoder;
  std::string out;
  std::size_t at = 0;
  for (std::size_t i = 0; at < text.size(); ++i) {
    std::size_t n = std::min(cuts[i % cuts.size()], text.size() - at);
    if (!decoder.Feed(text.substr(at, n), out)) {
      return std::nullopt;
    }
    at += n;
  }
  if (!decoder.Finish(out)) {
    return std::nullopt;
  }
  return out;
}

TEST(Base64Test, StreamingDecodesLikeTheWholeText) {
  std::mt19937 rng(7);
  for (int i = 0; i < 2000; ++i) {
    std::string bytes(rng() % 100, '\0');
    for (char& c : bytes) {
      c = static_cast<char>(rng());
    }
    const std::string text = Base64Encode(bytes);
    std::vector<std::size_t> cuts = {1 + rng() % 9, 1 + rng() % 5, 1 + rng() % 13};
    EXPECT_EQ(DecodeInPieces(text, cuts), bytes) << text;
  }
  EXPECT_EQ(DecodeInPieces("", {1}), "");
}

TEST(Base64Test, StreamingRefusesWhatTheWholeDecodeRefuses) {
  for (std::string_view bad : {"QQ==QUJD", "QQ=", "QUJ", "QUJD=", "QU JD", "QUJD\n", "QR==",
                               "QUJD====", "Q===", "=QUJ"}) {
    for (std::size_t cut : {std::size_t{1}, std::size_t{2}, std::size_t{3}, std::size_t{4},
                            std::size_t{100}}) {
      EXPECT_FALSE(DecodeInPieces(bad, {cut}).has_value()) << bad << " cut " << cut;
    }
    EXPECT_FALSE(Base64Decode(bad).has_value()) << bad;
  }
  Base64Decoder spent;
  std::string out;
  EXPECT_FALSE(spent.Feed("QQ==QUJDQUJD", out));
  EXPECT_FALSE(spent.Feed("QUJD", out)) << "a failed decoder stays failed";
  EXPECT_FALSE(spent.Finish(out));
}

}  // namespace
}  // namespace pipy
