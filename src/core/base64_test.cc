#include "core/base64.h"

#include <gtest/gtest.h>

#include <random>

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

}  // namespace
}  // namespace pipy
