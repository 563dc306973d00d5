#include "core/digest.h"

#include <gtest/gtest.h>

#include "core/base64.h"

namespace pipy {
namespace {

// The FIPS 180-2 "abc" examples, and their SRI form.
TEST(DigestTest, KnownVectors) {
  Digest sha1(Digest::Algorithm::kSha1);
  sha1.Update("abc");
  EXPECT_EQ(sha1.Hex(), "a9993e364706816aba3e25717850c26c9cd0d89d");
  Digest sha512(Digest::Algorithm::kSha512);
  sha512.Update("abc");
  EXPECT_EQ(sha512.Hex(),
            "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
            "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f");
  EXPECT_EQ(sha512.Raw().size(), 64u);
  // `printf abc | openssl dgst -sha512 -binary | base64`
  EXPECT_EQ(Sha512Integrity(sha512.Raw()),
            "sha512-3a81oZNherrMQXNJriBBMRLm+k6JqX6iCp7u5ktV05ohkpkqJ0/BqDa6PCOj/uu9RU1EI2Q86A4qmslPpUyknw==");
}

TEST(DigestTest, PiecesHashLikeTheWhole) {
  Digest whole(Digest::Algorithm::kSha512);
  whole.Update("hello, npm registry");
  Digest pieces(Digest::Algorithm::kSha512);
  pieces.Update("hello, ");
  EXPECT_NE(pieces.Hex(), whole.Hex());
  pieces.Update("npm registry");  // Raw()/Hex() did not end the stream
  EXPECT_EQ(pieces.Hex(), whole.Hex());
}

}  // namespace
}  // namespace pipy
