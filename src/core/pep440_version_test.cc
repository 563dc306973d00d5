#include "core/pep440_version.h"

#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <string>
#include <vector>

#include "core/test_util.h"

namespace pipy::pep440 {
namespace {

using ::pipy::testing::ReadTestdataLines;
using ::pipy::testing::SplitTabs;

Version MustParse(std::string_view text) {
  auto v = Version::Parse(text);
  EXPECT_TRUE(v.has_value()) << "'" << text << "': " << v.error().ToString();
  return v.has_value() ? *v : Version();
}

// An independent notion of equality for the sorted list: equal normalized strings once
// trailing ".0"s of the release are dropped (PEP 440: "1.0" == "1.0.0"; local labels are
// already normalized by ToString()).
std::string StripTrailingZeros(const Version& v) {
  static const std::regex kRelease(R"(^((?:\d+!)?\d+(?:\.\d+)*?)(?:\.0)*((?:\.?[a-z].*|\+.*)?)$)");
  return std::regex_replace(v.ToString(), kRelease, "$1$2");
}

TEST(VersionTest, SortedListIsInAscendingOrder) {
  bool ok = false;
  auto lines = ReadTestdataLines("pep440_sorted.txt", &ok);
  ASSERT_TRUE(ok);
  ASSERT_EQ(lines.size(), 598u);
  std::vector<Version> versions;
  for (const std::string& line : lines) {
    versions.push_back(MustParse(line));
  }
  int equal_pairs = 0;
  for (size_t i = 0; i + 1 < versions.size(); ++i) {
    const Version& a = versions[i];
    const Version& b = versions[i + 1];
    EXPECT_TRUE(a <= b) << lines[i] << " should not sort after " << lines[i + 1];
    EXPECT_FALSE(b < a) << lines[i] << " / " << lines[i + 1];
    if (a == b) {
      ++equal_pairs;
      EXPECT_EQ(StripTrailingZeros(a), StripTrailingZeros(b)) << lines[i] << " == " << lines[i + 1];
    } else {
      EXPECT_TRUE(a < b) << lines[i] << " < " << lines[i + 1];
      EXPECT_NE(StripTrailingZeros(a), StripTrailingZeros(b)) << lines[i] << " / " << lines[i + 1];
    }
  }
  EXPECT_GT(equal_pairs, 0);
  // The order is total and transitive: every earlier entry is <= every later one.
  for (size_t i = 0; i < versions.size(); ++i) {
    for (size_t j = i + 1; j < versions.size(); ++j) {
      ASSERT_TRUE(versions[i] <= versions[j]) << lines[i] << " vs " << lines[j];
      ASSERT_TRUE(versions[j] >= versions[i]) << lines[i] << " vs " << lines[j];
    }
  }
}

TEST(VersionTest, SortedListRoundTripsThroughToString) {
  bool ok = false;
  auto lines = ReadTestdataLines("pep440_sorted.txt", &ok);
  ASSERT_TRUE(ok);
  for (const std::string& line : lines) {
    Version v = MustParse(line);
    Version again = MustParse(v.ToString());
    EXPECT_EQ(v, again) << line;
    EXPECT_EQ(again.ToString(), v.ToString()) << line;
    // Every line of the list is already in normalized form.
    EXPECT_EQ(v.ToString(), line);
  }
}

TEST(VersionTest, Normalize) {
  bool ok = false;
  auto lines = ReadTestdataLines("pep440_normalize.tsv", &ok);
  ASSERT_TRUE(ok);
  ASSERT_GE(lines.size(), 40u);
  for (const std::string& line : lines) {
    auto fields = SplitTabs(line);
    ASSERT_EQ(fields.size(), 2u) << line;
    EXPECT_EQ(MustParse(fields[0]).ToString(), fields[1]) << fields[0];
  }
}

TEST(VersionTest, EqualPairs) {
  bool ok = false;
  auto lines = ReadTestdataLines("pep440_equal.tsv", &ok);
  ASSERT_TRUE(ok);
  ASSERT_GE(lines.size(), 7u);
  for (const std::string& line : lines) {
    auto fields = SplitTabs(line);
    ASSERT_EQ(fields.size(), 2u) << line;
    Version a = MustParse(fields[0]);
    Version b = MustParse(fields[1]);
    EXPECT_EQ(a, b) << line;
    EXPECT_EQ(b, a) << line;
    EXPECT_TRUE((a <=> b) == 0) << line;
    EXPECT_FALSE(a < b || b < a) << line;
  }
}

TEST(VersionTest, Invalid) {
  bool ok = false;
  auto lines = ReadTestdataLines("pep440_invalid.txt", &ok);
  ASSERT_TRUE(ok);
  ASSERT_GE(lines.size(), 15u);
  lines.push_back("");
  for (const std::string& line : lines) {
    auto v = Version::Parse(line);
    ASSERT_FALSE(v.has_value()) << "'" << line << "' parsed as " << v->ToString();
    EXPECT_EQ(v.error().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(v.error().message().find("invalid version"), std::string::npos);
  }
}

// Extra spellings, checked against Python's packaging 23.0 str(Version(x)).
TEST(VersionTest, MoreNormalizations) {
  struct Case {
    std::string_view input;
    std::string_view normalized;
  };
  const Case cases[] = {
      {"1.0a.", "1.0a0"},
      {"1.0.post.", "1.0.post0"},
      {"1.0.dev.", "1.0.dev0"},
      {"1.0-dev", "1.0.dev0"},
      {"1.0a-1", "1.0a1"},
      {"1.0a.-1", "1.0a0.post1"},
      {" 1.0 ", "1.0"},
      {"\t1.0\n", "1.0"},
      {"1.0.1-1", "1.0.1.post1"},
      {"1.0-r1", "1.0.post1"},
      {"1.0+a-b_c.d", "1.0+a.b.c.d"},
      {"1.0rev", "1.0.post0"},
      {"1.0_c_1", "1.0rc1"},
      {"v1!1.0", "1!1.0"},
      {"1.0+0", "1.0+0"},
      {"1.0+00.a", "1.0+0.a"},
      {"1.0+1a", "1.0+1a"},
      {"1.0RC1", "1.0rc1"},
      {"1.0-PREVIEW-2", "1.0rc2"},
      {"1.0a1-1", "1.0a1.post1"},
      {"1.0a1.post2.dev3", "1.0a1.post2.dev3"},
      {"1.0a1_post2_dev3+X", "1.0a1.post2.dev3+x"},
      {"2012.04.05", "2012.4.5"},
      {"18446744073709551615", "18446744073709551615"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(MustParse(c.input).ToString(), c.normalized) << "'" << c.input << "'";
  }
}

TEST(VersionTest, MoreInvalid) {
  const std::string_view bad[] = {
      "1.0_1",  // '_' cannot introduce an implicit post release
      "v",
      "vv1.0",
      "1.0 a1",
      "1.0+",
      "1.0+-a",
      "1.0+a..b",
      "1.0+a.",
      "1.0.post1.post2",
      "1.0.dev1.dev2",
      "1.0.dev1a1",
      "1.0.post1a1",
      "1!",
      "!1",
      "1.0a1b1",
      "1.0--1",
      "1.0--dev",
      "1.0 +local",
      "1.0\n+local",
      "1.0\x01",
      "1.0.*",
      "1.0.x",
      "18446744073709551616",  // does not fit in 64 bits
      "1.0+a b",
      "1 0",
  };
  for (std::string_view text : bad) {
    auto v = Version::Parse(text);
    EXPECT_FALSE(v.has_value()) << "'" << text << "' parsed as " << v->ToString();
  }
}

TEST(VersionTest, Accessors) {
  Version v = MustParse("V2!1.02.3RC4-post5_DEV6+Ubuntu-007");
  EXPECT_EQ(v.epoch(), 2u);
  EXPECT_EQ(v.release(), (std::vector<std::uint64_t>{1, 2, 3}));
  ASSERT_TRUE(v.pre().has_value());
  EXPECT_EQ(v.pre()->kind, Version::PreKind::kRc);
  EXPECT_EQ(v.pre()->number, 4u);
  EXPECT_EQ(v.post(), 5u);
  EXPECT_EQ(v.dev(), 6u);
  EXPECT_EQ(v.local(), "ubuntu.7");
  EXPECT_TRUE(v.has_local());
  EXPECT_TRUE(v.is_prerelease());
  EXPECT_TRUE(v.is_devrelease());
  EXPECT_TRUE(v.is_postrelease());
  EXPECT_EQ(v.ToString(), "2!1.2.3rc4.post5.dev6+ubuntu.7");
  EXPECT_EQ(v.Public(), "2!1.2.3rc4.post5.dev6");
  EXPECT_EQ(v.WithoutLocal().ToString(), "2!1.2.3rc4.post5.dev6");
  EXPECT_EQ(v.BaseVersion().ToString(), "2!1.2.3");

  Version plain = MustParse("1.0");
  EXPECT_EQ(plain.epoch(), 0u);
  EXPECT_EQ(plain.release(), (std::vector<std::uint64_t>{1, 0}));
  EXPECT_FALSE(plain.pre().has_value());
  EXPECT_FALSE(plain.post().has_value());
  EXPECT_FALSE(plain.dev().has_value());
  EXPECT_EQ(plain.local(), "");
  EXPECT_FALSE(plain.has_local());
  EXPECT_FALSE(plain.is_prerelease());
  EXPECT_FALSE(plain.is_devrelease());
  EXPECT_FALSE(plain.is_postrelease());
  EXPECT_EQ(plain.Public(), "1.0");

  EXPECT_TRUE(MustParse("1.0a1").is_prerelease());
  EXPECT_FALSE(MustParse("1.0a1").is_devrelease());
  EXPECT_TRUE(MustParse("1.0.dev1").is_prerelease());
  EXPECT_FALSE(MustParse("1.0.post1").is_prerelease());
  EXPECT_TRUE(MustParse("1.0-1").is_postrelease());
  EXPECT_EQ(Version().ToString(), "0");
}

// Orderings the spec calls out, each pair strictly ascending.
TEST(VersionTest, OrderingRules) {
  const std::pair<std::string_view, std::string_view> ascending[] = {
      {"1.0.dev456", "1.0a1"},
      {"1.0a1", "1.0a2.dev456"},
      {"1.0a2.dev456", "1.0a12.dev456"},
      {"1.0a12", "1.0b1.dev456"},
      {"1.0b2", "1.0b2.post345.dev456"},
      {"1.0b2.post345.dev456", "1.0b2.post345"},
      {"1.0b2.post345", "1.0rc1.dev456"},
      {"1.0rc1", "1.0"},
      {"1.0", "1.0+abc.5"},
      {"1.0+abc.5", "1.0+abc.7"},
      {"1.0+abc.7", "1.0+5"},
      {"1.0+5", "1.0.post456.dev34"},
      {"1.0.post456.dev34", "1.0.post456"},
      {"1.0.post456", "1.1.dev1"},
      {"1.0+abc", "1.0+abc.0"},
      {"1.0+9", "1.0+10"},
      {"1.0+a", "1.0+b"},
      {"1.0+z", "1.0+0"},
      {"1.9", "1.10"},
      {"1.0", "1.0.1"},
      {"99999", "1!0"},
      {"1.0.post1", "1.0.post1+local"},
      {"1.0.dev1", "1.0.dev1+local"},
      {"1.0a1.dev1+local", "1.0a1"},
      {"1.0.dev0", "1.0.0a0"},
      {"18446744073709551614", "18446744073709551615"},
  };
  for (const auto& [lo, hi] : ascending) {
    Version a = MustParse(lo);
    Version b = MustParse(hi);
    EXPECT_TRUE(a < b) << lo << " < " << hi;
    EXPECT_TRUE(b > a) << hi << " > " << lo;
    EXPECT_TRUE(a != b) << lo << " != " << hi;
    EXPECT_TRUE((a <=> b) < 0) << lo << " <=> " << hi;
  }
  EXPECT_EQ(MustParse("1.0+abc.07"), MustParse("1.0+ABC-7"));
  EXPECT_EQ(MustParse("1.0.0.0.0"), MustParse("1"));
  EXPECT_EQ(MustParse("0!1.0"), MustParse("1.0"));
  EXPECT_NE(MustParse("1.0+0"), MustParse("1.0"));
}

TEST(VersionKey, EqualVersionsShareOneKey) {
  auto key = [](std::string_view text) { return Version::Parse(text)->Key(); };
  EXPECT_EQ(key("1"), "1");
  EXPECT_EQ(key("1.0"), "1");
  EXPECT_EQ(key("1.0.0"), "1");
  EXPECT_EQ(key("v1.0.0.post0"), "1.post0");
  EXPECT_EQ(key("1.0.0+ABC.01"), "1+abc.1");
  EXPECT_EQ(key("0"), "0");
  EXPECT_EQ(key("0.0.1"), "0.0.1");
  EXPECT_NE(key("1.0a1"), key("1.0"));
  // Equality and key agree on every pair of the shared test vectors.
  std::ifstream in(std::string(PIPY_TESTDATA_DIR) + "/pep440_equal.tsv");
  ASSERT_TRUE(in) << "pep440_equal.tsv";
  std::string line;
  int pairs = 0;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') {
      continue;
    }
    auto tab = line.find('\t');
    if (tab == std::string::npos) {
      continue;
    }
    auto a = Version::Parse(line.substr(0, tab));
    auto rest = line.substr(tab + 1);
    auto tab2 = rest.find('\t');
    auto b = Version::Parse(rest.substr(0, tab2));
    if (!a || !b) {
      continue;
    }
    EXPECT_EQ(*a == *b, a->Key() == b->Key()) << line;
    ++pairs;
  }
  EXPECT_GT(pairs, 0);
  // ... and versions that differ never share one.
  std::ifstream sorted(std::string(PIPY_TESTDATA_DIR) + "/pep440_sorted.txt");
  ASSERT_TRUE(sorted) << "pep440_sorted.txt";
  std::optional<Version> previous;
  while (std::getline(sorted, line)) {
    auto v = Version::Parse(line);
    if (line.empty() || line[0] == '#' || !v) {
      continue;
    }
    if (previous && *previous != *v) {
      EXPECT_NE(previous->Key(), v->Key()) << previous->ToString() << " " << line;
    }
    previous = *v;
  }
}

}  // namespace
}  // namespace pipy::pep440
