#include "core/sha256.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>

namespace pipy {
namespace {

// NIST FIPS 180-4 example vectors (csrc.nist.gov, "SHA256.pdf" / SHAVS short messages).
constexpr char kEmpty[] = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
constexpr char kAbc[] = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
constexpr char k448Bit[] = "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1";
constexpr char kMillionA[] = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";
constexpr char k448BitInput[] = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";

TEST(Sha256Test, NistVectorsOneShot) {
  EXPECT_EQ(Sha256Hex(""), kEmpty);
  EXPECT_EQ(Sha256Hex("abc"), kAbc);
  EXPECT_EQ(Sha256Hex(k448BitInput), k448Bit);
  EXPECT_EQ(Sha256Hex(std::string(1000000, 'a')), kMillionA);
}

TEST(Sha256Test, StreamingMatchesOneShot) {
  Sha256 hasher;
  const std::string chunk(1000, 'a');
  for (int i = 0; i < 1000; ++i) {
    hasher.Update(chunk);
  }
  EXPECT_EQ(hasher.HexDigest(), kMillionA);

  Sha256 bytewise;
  for (char c : std::string(k448BitInput)) {
    bytewise.Update(std::string_view(&c, 1));
  }
  EXPECT_EQ(bytewise.HexDigest(), k448Bit);
}

TEST(Sha256Test, FreshHasherDigestsEmptyInput) {
  Sha256 hasher;
  EXPECT_EQ(hasher.HexDigest(), kEmpty);
  hasher.Update("");
  EXPECT_EQ(hasher.HexDigest(), kEmpty);
}

TEST(Sha256Test, HexDigestDoesNotEndTheStream) {
  Sha256 hasher;
  hasher.Update("a");
  EXPECT_EQ(hasher.HexDigest(), Sha256Hex("a"));
  EXPECT_EQ(hasher.HexDigest(), Sha256Hex("a"));
  hasher.Update("bc");
  EXPECT_EQ(hasher.HexDigest(), kAbc);
}

TEST(Sha256Test, MovedHasherKeepsState) {
  Sha256 first;
  first.Update("ab");
  Sha256 second(std::move(first));
  second.Update("c");
  EXPECT_EQ(second.HexDigest(), kAbc);
  Sha256 third;
  third = std::move(second);
  EXPECT_EQ(third.HexDigest(), kAbc);
}

TEST(Sha256Test, BinaryInputWithNul) {
  // sha256 of the three bytes 00 01 02 (computed with coreutils sha256sum).
  EXPECT_EQ(Sha256Hex(std::string("\0\1\2", 3)),
            "ae4b3280e56e2faf83f414a6e3dabe9d5fbe18976544c05fed121accb85b53fc");
}

}  // namespace
}  // namespace pipy
