#include "core/semver.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <regex>
#include <string>
#include <vector>

namespace pipy::semver {
namespace {

Version MustParse(std::string_view text) {
  auto v = Version::Parse(text);
  EXPECT_TRUE(v.has_value()) << "'" << text << "': " << v.error().ToString();
  return v.has_value() ? *v : Version();
}

// The message of the refusal of `text`, or "" (plus a test failure) when it parses.
std::string RefusalOf(std::string_view text) {
  auto v = Version::Parse(text);
  EXPECT_FALSE(v.has_value()) << "'" << text << "' should be refused";
  if (v.has_value()) {
    return "";
  }
  EXPECT_EQ(v.error().code(), StatusCode::kInvalidArgument) << text;
  return v.error().message();
}

// The regex semver.org suggests, as an independent oracle for the grammar (it has no notion
// of the 64-bit limit).
const std::regex& SuggestedRegex() {
  static const std::regex kRegex(R"(^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*))"
                                 R"((?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))"
                                 R"((?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?)"
                                 R"((?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$)");
  return kRegex;
}

// The "valid" examples of semver.org's regex test corpus (https://regex101.com/r/vkijKf/1/),
// without the one whose numbers exceed 64 bits (see NumbersBeyond64BitsAreRefused).
const std::vector<std::string> kValid = {
    "0.0.4",
    "1.2.3",
    "10.20.30",
    "1.1.2-prerelease+meta",
    "1.1.2+meta",
    "1.1.2+meta-valid",
    "1.0.0-alpha",
    "1.0.0-beta",
    "1.0.0-alpha.beta",
    "1.0.0-alpha.beta.1",
    "1.0.0-alpha.1",
    "1.0.0-alpha0.valid",
    "1.0.0-alpha.0valid",
    "1.0.0-alpha-a.b-c-somethinglong+build.1-aef.1-its-okay",
    "1.0.0-rc.1+build.1",
    "2.0.0-rc.1+build.123",
    "1.2.3-beta",
    "10.2.3-DEV-SNAPSHOT",
    "1.2.3-SNAPSHOT-123",
    "1.0.0",
    "2.0.0",
    "1.1.7",
    "2.0.0+build.1848",
    "2.0.1-alpha.1227",
    "1.0.0-alpha+beta",
    "1.2.3----RC-SNAPSHOT.12.9.1--.12+788",
    "1.2.3----R-S.12.9.1--.12+meta",
    "1.2.3----RC-SNAPSHOT.12.9.1--.12",
    "1.0.0+0.build.1-rc.10000aaa-kk-0.1",
    "1.0.0-0A.is.legal",
};

// The "invalid" examples of the same corpus.
const std::vector<std::string> kInvalid = {
    "1",
    "1.2",
    "1.2.3-0123",
    "1.2.3-0123.0123",
    "1.1.2+.123",
    "+invalid",
    "-invalid",
    "-invalid+invalid",
    "-invalid.01",
    "alpha",
    "alpha.beta",
    "alpha.beta.1",
    "alpha.1",
    "alpha+beta",
    "alpha_beta",
    "alpha.",
    "alpha..",
    "beta",
    "1.0.0-alpha_beta",
    "-alpha.",
    "1.0.0-alpha..",
    "1.0.0-alpha..1",
    "1.0.0-alpha...1",
    "1.0.0-alpha....1",
    "01.1.1",
    "1.01.1",
    "1.1.01",
    "1.2.3.DEV",
    "1.2-SNAPSHOT",
    "1.2.31.2.3----RC-SNAPSHOT.12.09.1--..12+788",
    "1.2-RC-SNAPSHOT",
    "-1.0.3-gamma+b7718",
    "+justmeta",
    "9.8.7+meta+meta",
    "9.8.7-whatever+meta+meta",
    "99999999999999999999999.999999999999999999.99999999999999999----RC-SNAPSHOT.12.09.1------"
    "--------------------------..12",
    // Empty prerelease or build parts (section 9 and 10: identifiers MUST NOT be empty).
    "1.0.0-",
    "1.0.0+",
    "1.0.0-+",
    "1.0.0-+123",
    "1.0.0-.123",
    "1.0.0-123.",
    "1.0.0+123.",
    "1.0.0+...",
    "",
};

TEST(SemverTest, ValidCorpusParsesAndRoundTrips) {
  for (const std::string& text : kValid) {
    ASSERT_TRUE(std::regex_match(text, SuggestedRegex())) << "test data: " << text;
    Version v = MustParse(text);
    EXPECT_EQ(v.ToString(), text);
    EXPECT_EQ(MustParse(v.ToString()).ToString(), text);
  }
}

TEST(SemverTest, InvalidCorpusIsRefused) {
  for (const std::string& text : kInvalid) {
    ASSERT_FALSE(std::regex_match(text, SuggestedRegex())) << "test data: " << text;
    std::string message = RefusalOf(text);
    EXPECT_NE(message.find("invalid version"), std::string::npos) << message;
  }
}

TEST(SemverTest, AccessorsSplitTheParts) {
  Version v = MustParse("1.22.333-rc.1.x-y+build.007.z");
  EXPECT_EQ(v.major(), 1u);
  EXPECT_EQ(v.minor(), 22u);
  EXPECT_EQ(v.patch(), 333u);
  EXPECT_EQ(v.prerelease(), (std::vector<std::string>{"rc", "1", "x-y"}));
  EXPECT_EQ(v.build(), (std::vector<std::string>{"build", "007", "z"}));
  EXPECT_TRUE(v.IsPrerelease());
  EXPECT_EQ(v.ToString(), "1.22.333-rc.1.x-y+build.007.z");
  EXPECT_EQ(v.Key(), "1.22.333-rc.1.x-y");

  Version release = MustParse("2.0.0+sha.5114f85");
  EXPECT_FALSE(release.IsPrerelease());
  EXPECT_TRUE(release.prerelease().empty());
  EXPECT_EQ(release.Key(), "2.0.0");

  Version zero;
  EXPECT_EQ(zero.ToString(), "0.0.0");
  EXPECT_EQ(zero, MustParse("0.0.0"));
}

// Build metadata may have leading zeros and hyphens; it never takes part in precedence.
TEST(SemverTest, BuildMetadataIsLenientOnlyWhereTheSpecSaysSo) {
  EXPECT_EQ(MustParse("1.0.0+001").build(), std::vector<std::string>{"001"});
  EXPECT_EQ(MustParse("1.0.0-alpha+001").ToString(), "1.0.0-alpha+001");
  EXPECT_EQ(MustParse("1.0.0+20130313144700").Key(), "1.0.0");
  EXPECT_EQ(MustParse("1.0.0-0.3.7").prerelease(), (std::vector<std::string>{"0", "3", "7"}));
  EXPECT_EQ(MustParse("1.0.0--").prerelease(), std::vector<std::string>{"-"});
  EXPECT_NE(RefusalOf("1.0.0-01").find("leading zero"), std::string::npos);
  EXPECT_NE(RefusalOf("1.0.0-rc.00").find("leading zero"), std::string::npos);
}

TEST(SemverTest, PrecedenceExampleChainOfTheSpec) {
  // Section 11.4, in order.
  const std::vector<std::string> chain = {
      "1.0.0-alpha",  "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta",
      "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1",       "1.0.0",
  };
  for (size_t i = 0; i < chain.size(); ++i) {
    for (size_t j = 0; j < chain.size(); ++j) {
      Version a = MustParse(chain[i]);
      Version b = MustParse(chain[j]);
      EXPECT_EQ(a < b, i < j) << chain[i] << " vs " << chain[j];
      EXPECT_EQ(a == b, i == j) << chain[i] << " vs " << chain[j];
      EXPECT_EQ(a > b, i > j) << chain[i] << " vs " << chain[j];
    }
  }
  // Section 11.2: numbers compare numerically, not as text.
  EXPECT_LT(MustParse("1.0.0"), MustParse("2.0.0"));
  EXPECT_LT(MustParse("2.0.0"), MustParse("2.1.0"));
  EXPECT_LT(MustParse("2.1.0"), MustParse("2.1.1"));
  EXPECT_LT(MustParse("1.9.0"), MustParse("1.10.0"));
  EXPECT_LT(MustParse("1.0.9"), MustParse("1.0.10"));
  EXPECT_LT(MustParse("9.0.0"), MustParse("10.0.0"));
  // A prerelease of a later version still sorts after an earlier release.
  EXPECT_LT(MustParse("1.0.0"), MustParse("1.0.1-alpha"));
}

TEST(SemverTest, PrereleaseIdentifierRules) {
  // Numeric identifiers sort before alphanumeric ones (11.4.3).
  EXPECT_LT(MustParse("1.0.0-1"), MustParse("1.0.0-a"));
  EXPECT_LT(MustParse("1.0.0-999"), MustParse("1.0.0-0a"));
  EXPECT_LT(MustParse("1.0.0-rc.9"), MustParse("1.0.0-rc.a"));
  // Alphanumeric identifiers compare in ASCII order: '-' < digits < uppercase < lowercase.
  EXPECT_LT(MustParse("1.0.0-B"), MustParse("1.0.0-a"));
  EXPECT_LT(MustParse("1.0.0-a-b"), MustParse("1.0.0-a0"));
  EXPECT_LT(MustParse("1.0.0-alpha"), MustParse("1.0.0-alphb"));
  EXPECT_LT(MustParse("1.0.0-RC"), MustParse("1.0.0-rc"));
  // Numeric identifiers of any length compare by value, not as text and without overflow.
  EXPECT_LT(MustParse("1.0.0-2"), MustParse("1.0.0-10"));
  EXPECT_LT(MustParse("1.0.0-18446744073709551615"), MustParse("1.0.0-18446744073709551616"));
  EXPECT_LT(MustParse("1.0.0-99999999999999999999"), MustParse("1.0.0-100000000000000000000"));
  // A longer list wins when all shared identifiers are equal (11.4.4).
  EXPECT_LT(MustParse("1.0.0-alpha"), MustParse("1.0.0-alpha.0"));
  EXPECT_LT(MustParse("1.0.0-a.b"), MustParse("1.0.0-a.b.c"));
}

TEST(SemverTest, BuildMetadataIsIgnoredByEqualityAndKey) {
  Version a = MustParse("1.0.0+a");
  Version b = MustParse("1.0.0+b");
  Version none = MustParse("1.0.0");
  EXPECT_EQ(a, b);
  EXPECT_EQ(a, none);
  EXPECT_FALSE(a < b);
  EXPECT_FALSE(b < a);
  EXPECT_EQ(a <=> b, std::weak_ordering::equivalent);
  EXPECT_EQ(a.Key(), "1.0.0");
  EXPECT_EQ(a.Key(), b.Key());
  EXPECT_EQ(a.Key(), none.Key());
  // The spelling is kept, so the manifest can show what was published.
  EXPECT_EQ(a.ToString(), "1.0.0+a");
  EXPECT_NE(a.ToString(), b.ToString());

  Version rc1 = MustParse("2.0.0-rc.1+build.1");
  Version rc2 = MustParse("2.0.0-rc.1+build.123");
  EXPECT_EQ(rc1, rc2);
  EXPECT_EQ(rc1.Key(), "2.0.0-rc.1");
  EXPECT_EQ(rc1.Key(), rc2.Key());
  EXPECT_NE(MustParse("2.0.0-rc.1").Key(), MustParse("2.0.0-rc.2").Key());
}

// Key() is the catalog's identity, so it must agree with == for every pair.
TEST(SemverTest, KeyAgreesWithEqualityAcrossTheCorpus) {
  std::vector<std::string> texts = kValid;
  texts.insert(texts.end(), {"1.0.0+x", "1.0.0-alpha+y", "1.0.0-alpha.1+z.1", "1.2.3+0"});
  for (const std::string& x : texts) {
    for (const std::string& y : texts) {
      Version a = MustParse(x);
      Version b = MustParse(y);
      EXPECT_EQ(a == b, a.Key() == b.Key()) << x << " vs " << y;
      EXPECT_EQ(a == b, !(a < b) && !(b < a)) << x << " vs " << y;
    }
  }
}

TEST(SemverTest, SortingAShuffledListGivesPrecedenceOrder) {
  const std::vector<std::string> sorted = {
      "0.0.0",
      "0.0.1-0",
      "0.0.1",
      "0.1.0",
      "0.9.99",
      "0.10.0",
      "1.0.0-0",
      "1.0.0-0.0",
      "1.0.0-1",
      "1.0.0-2",
      "1.0.0-10",
      "1.0.0-10.a",
      "1.0.0-A",
      "1.0.0-alpha",
      "1.0.0-alpha.1",
      "1.0.0-alpha.beta",
      "1.0.0-beta",
      "1.0.0-beta.2",
      "1.0.0-beta.11",
      "1.0.0-rc.1",
      "1.0.0",
      "1.0.1-alpha",
      "1.0.1",
      "1.2.3",
      "1.10.0",
      "2.0.0-rc.1",
      "2.0.0",
      "10.0.0",
      "9007199254740991.9007199254740991.9007199254740991",
  };
  std::vector<Version> versions;
  for (const std::string& text : sorted) {
    versions.push_back(MustParse(text));
  }
  std::mt19937 rng(20240611);
  for (int round = 0; round < 20; ++round) {
    std::vector<Version> shuffled = versions;
    std::shuffle(shuffled.begin(), shuffled.end(), rng);
    std::sort(shuffled.begin(), shuffled.end());
    std::vector<std::string> got;
    for (const Version& v : shuffled) {
      got.push_back(v.ToString());
    }
    ASSERT_EQ(got, sorted) << "round " << round;
  }
}

TEST(SemverTest, NumbersBeyondWhatNpmReadsAreRefused) {
  // In the corpus's "valid" list, but beyond Number.MAX_SAFE_INTEGER, where node-semver
  // throws: npm could not install it.
  const std::string big = "99999999999999999999999.999999999999999999.99999999999999999";
  ASSERT_TRUE(std::regex_match(big, SuggestedRegex()));
  std::string message = RefusalOf(big);
  EXPECT_NE(message.find("MAJOR '99999999999999999999999' is too large"), std::string::npos)
      << message;
  EXPECT_NE(message.find("9007199254740991"), std::string::npos) << message;

  EXPECT_EQ(MustParse("9007199254740991.0.0").major(), 9007199254740991u);
  EXPECT_NE(RefusalOf("9007199254740992.0.0").find("MAJOR"), std::string::npos);
  EXPECT_NE(RefusalOf("0.9007199254740992.0").find("MINOR"), std::string::npos);
  EXPECT_NE(RefusalOf("0.0.9007199254740992").find("PATCH"), std::string::npos);
  EXPECT_NE(RefusalOf("0.0.18446744073709551616").find("too large"), std::string::npos);
}

TEST(SemverTest, LengthIsCappedAt256) {
  // "1.0.0-" plus padding: exactly the cap parses, one more is refused before any other rule.
  const std::string at_cap = "1.0.0-" + std::string(kMaxVersionLength - 6, 'a');
  ASSERT_EQ(at_cap.size(), 256u);
  EXPECT_EQ(MustParse(at_cap).ToString(), at_cap);
  const std::string over = at_cap + "a";
  std::string message = RefusalOf(over);
  EXPECT_NE(message.find("longer than 256 characters"), std::string::npos) << message;
  // The message shows a prefix, not all of a long input.
  EXPECT_LT(message.size(), 200u) << message;
}

TEST(SemverTest, LooseSpellingsAreRefusedWithAHint) {
  std::string v = RefusalOf("v1.2.3");
  EXPECT_NE(v.find("leading 'v'"), std::string::npos) << v;
  EXPECT_NE(v.find("send '1.2.3'"), std::string::npos) << v;
  EXPECT_NE(RefusalOf("V1.2.3").find("leading 'V'"), std::string::npos);
  std::string eq = RefusalOf("=1.2.3");
  EXPECT_NE(eq.find("leading '='"), std::string::npos) << eq;
  // No suggestion when removing the prefix would not help.
  EXPECT_EQ(RefusalOf("vx").find("send"), std::string::npos);
  for (const char* text : {" 1.2.3", "1.2.3 ", "\t1.2.3", "1.2.3\n", " 1.2.3 "}) {
    std::string m = RefusalOf(text);
    EXPECT_NE(m.find("whitespace"), std::string::npos) << m;
  }
  EXPECT_NE(RefusalOf("").find("empty version"), std::string::npos);
}

TEST(SemverTest, MessagesNameTheBrokenRule) {
  EXPECT_NE(RefusalOf("1.2").find("MAJOR.MINOR.PATCH"), std::string::npos);
  EXPECT_NE(RefusalOf("1.2.3.4").find("MAJOR.MINOR.PATCH"), std::string::npos);
  EXPECT_NE(RefusalOf("1.2-SNAPSHOT").find("MAJOR.MINOR.PATCH"), std::string::npos);
  EXPECT_NE(RefusalOf("01.1.1").find("MAJOR '01' has a leading zero"), std::string::npos);
  EXPECT_NE(RefusalOf("1.01.1").find("MINOR '01' has a leading zero"), std::string::npos);
  EXPECT_NE(RefusalOf("1.1.01").find("PATCH '01' has a leading zero"), std::string::npos);
  EXPECT_NE(RefusalOf("1.x.1").find("MINOR 'x' is not a decimal number"), std::string::npos);
  EXPECT_NE(RefusalOf("1..1").find("MINOR is empty"), std::string::npos);
  EXPECT_NE(RefusalOf("1.2.3-0123").find("'0123' has a leading zero"), std::string::npos);
  EXPECT_NE(RefusalOf("1.0.0-").find("empty prerelease"), std::string::npos);
  EXPECT_NE(RefusalOf("1.0.0+").find("empty build metadata"), std::string::npos);
  EXPECT_NE(RefusalOf("1.0.0-alpha..1").find("empty prerelease identifier"), std::string::npos);
  EXPECT_NE(RefusalOf("1.1.2+.123").find("empty build metadata identifier"), std::string::npos);
  EXPECT_NE(RefusalOf("9.8.7+meta+meta").find("more than one '+'"), std::string::npos);
  std::string underscore = RefusalOf("1.0.0-alpha_beta");
  EXPECT_NE(underscore.find("'alpha_beta' contains '_'"), std::string::npos) << underscore;
  std::string control = RefusalOf("1.0.0-a\x01");
  EXPECT_NE(control.find("byte 0x01"), std::string::npos) << control;
  std::string unicode = RefusalOf("1.0.0+\xc3\xa9");
  EXPECT_NE(unicode.find("byte 0xc3"), std::string::npos) << unicode;
}

}  // namespace
}  // namespace pipy::semver
