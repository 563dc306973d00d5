#include "core/pep440_specifier.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "core/test_util.h"

namespace pipy::pep440 {
namespace {

using ::pipy::testing::ReadTestdataLines;
using ::pipy::testing::SplitTabs;

Version V(std::string_view text) {
  auto v = Version::Parse(text);
  EXPECT_TRUE(v.has_value()) << text;
  return v.has_value() ? *v : Version();
}

TEST(SpecifierSetTest, EveryLineOfRequiresPython) {
  bool ok = false;
  auto lines = ReadTestdataLines("requires_python.tsv", &ok);
  ASSERT_TRUE(ok);
  ASSERT_GE(lines.size(), 64u);
  std::set<std::string> answers;
  for (const std::string& line : lines) {
    auto fields = SplitTabs(line);
    ASSERT_EQ(fields.size(), 3u) << line;
    ASSERT_TRUE(fields[2] == "yes" || fields[2] == "no") << line;
    answers.insert(fields[2]);
    auto set = SpecifierSet::Parse(fields[0]);
    ASSERT_TRUE(set.has_value()) << fields[0] << ": " << set.error().ToString();
    const bool want = fields[2] == "yes";
    // The vectors come from packaging's default (prereleases=None); none of the interpreter
    // versions is a pre-release, so both modes must agree.
    EXPECT_EQ(set->Contains(V(fields[1])), want) << line;
    EXPECT_EQ(set->Contains(V(fields[1]), /*prereleases=*/false), want) << line;
  }
  EXPECT_EQ(answers.size(), 2u);
}

TEST(SpecifierSetTest, EmptyMatchesEverything) {
  for (std::string_view text : {"", "  ", ",", " , ,"}) {
    auto set = SpecifierSet::Parse(text);
    ASSERT_TRUE(set.has_value()) << "'" << text << "'";
    EXPECT_TRUE(set->empty());
    EXPECT_TRUE(set->Contains(V("0")));
    EXPECT_TRUE(set->Contains(V("99!99.99.post99+x")));
    EXPECT_TRUE(set->Contains(V("1.0a1")));
    EXPECT_FALSE(set->Contains(V("1.0a1"), /*prereleases=*/false));
  }
}

// Each row checked against Python's packaging 23.0:
// SpecifierSet(spec).contains(version, prereleases=True) and .contains(version).
TEST(SpecifierSetTest, ReferenceTable) {
  struct Case {
    std::string_view spec;
    std::string_view version;
    bool with_prereleases;
    bool by_default;
  };
  const Case cases[] = {
      {"==3.0.*", "3.1", false, false},
      {"==3.0.*", "3.0", true, true},
      {"==3.0.*", "3", true, true},
      {"==3.0.*", "3.0.5", true, true},
      {"==1.1.*", "1.1a1", true, false},
      {"==1.1.*", "1.1.post1", true, true},
      {"==1.1.*", "1.1+local", true, true},
      {"==1!1.*", "1.1", false, false},
      {"==1!1.*", "1!1.5", true, true},
      {"~=2.2", "2.3", true, true},
      {"~=2.2", "3.0", false, false},
      {"~=2.2.post3", "2.2.post4", true, true},
      {"~=2.2.post3", "2.3", true, true},
      {"~=1.4.5a4", "1.4.5", true, true},
      {"~=1.4.5a4", "1.4.6", true, true},
      {"~=1.4.5a4", "1.5", false, false},
      {"~=1!1.0", "1!1.5", true, true},
      {"~=1!1.0", "1.5", false, false},
      {"<1.0", "1.0a1", false, false},
      {"<1.0rc1", "1.0a1", true, false},
      {"<1.0", "0.9.dev1", true, false},
      {"<1.0", "1.0+local", false, false},
      {">1.0", "1.0.post1", false, false},
      {">1.0.post1", "1.0.post2", true, true},
      {">1.0", "1.0+local", false, false},
      {">1.0", "1.1", true, true},
      {"<=1.0", "1.0+local", true, true},
      {">=1.0", "1.0+local", true, true},
      {"==1.0", "1.0+local", true, true},
      {"==1.0+local", "1.0", false, false},
      {"==1.0+local", "1.0+local", true, true},
      {"!=1.0", "1.0+local", false, false},
      {"!=1.0+a", "1.0+b", true, true},
      {"===1.0", "1.0", true, true},
      {"===1.0", "1.0.0", false, false},
      {"===1.0+ABC", "1.0+abc", true, true},
      {">=1.0a1", "1.0a2", true, true},
      {">=1.0", "1.1a1", true, false},
      {"", "1.0a1", true, false},
      {"<=2.0.dev1", "2.0.dev0", true, true},
      {"==2.0.dev1", "2.0.dev1", true, true},
      {">1.0,<2.0", "1.5", true, true},
      {"==1.0.0", "1", true, true},
      {"==1", "1.0.0+local", true, true},
      {">1.0.post1", "1.0.post1+local", false, false},
      {"<1.0.post1", "1.0", true, true},
      {">1.0a1", "1.0a1.post1", false, false},
      {">1.0a1", "1.0a1+local", false, false},
      {"<2", "2.0.dev1", false, false},
      {"<2.dev2", "2.dev1", true, false},
  };
  for (const Case& c : cases) {
    auto set = SpecifierSet::Parse(c.spec);
    ASSERT_TRUE(set.has_value()) << c.spec << ": " << set.error().ToString();
    EXPECT_EQ(set->Contains(V(c.version), true), c.with_prereleases) << c.spec << " " << c.version;
    EXPECT_EQ(set->Contains(V(c.version), false), c.by_default) << c.spec << " " << c.version;
  }
}

TEST(SpecifierSetTest, ParsesSpellingsAndNormalizes) {
  struct Case {
    std::string_view input;
    std::string_view normalized;
  };
  const Case cases[] = {
      {">= 3.8", ">=3.8"},
      {">=3.8,,<4", "<4,>=3.8"},
      {">=3.8,", ">=3.8"},
      {"==v1.0.*", "==1.0.*"},
      {"== 1.0.*", "==1.0.*"},
      {">=1.0 , <2", "<2,>=1.0"},
      {"~=v1.0", "~=1.0"},
      {">v1.0", ">1.0"},
      {"=== 1.0", "===1.0"},
      {"  !=3.10.*  ,>=3.7", "!=3.10.*,>=3.7"},
      {">=3.6.0", ">=3.6.0"},
      {"~=3.9", "~=3.9"},
      {"<3", "<3"},
      {"==1.0+LOCAL", "==1.0+local"},
      {"===Foo-Bar", "===Foo-Bar"},
  };
  for (const Case& c : cases) {
    auto set = SpecifierSet::Parse(c.input);
    ASSERT_TRUE(set.has_value()) << c.input << ": " << set.error().ToString();
    EXPECT_EQ(set->ToString(), c.normalized) << c.input;
  }
}

TEST(SpecifierSetTest, RejectsInvalid) {
  const std::string_view bad[] = {
      "~=1",  // ~= needs two release numbers
      "==1.*.0",  "==1.0a1.*", ">=1.0.*",   "<1.0+local",    "~=1.0+l",   "=>1.0",
      "= =1.0",   "1.0",       ">=",        "===",           "~=1.0.*",   "!= 1.0 .*",
      "==1.0. *", "===a;b",    "===a)b",    "==1.0+local.*", ">=3.8,<",   ">=3.8;<4",
      ">=3.8 <4", ">=3.x",     "python>=3", "==1.0.*.*",     ">=1.0,foo",
  };
  for (std::string_view text : bad) {
    auto set = SpecifierSet::Parse(text);
    ASSERT_FALSE(set.has_value()) << "'" << text << "' parsed as " << set->ToString();
    EXPECT_EQ(set.error().code(), StatusCode::kInvalidArgument) << text;
  }
}

TEST(SpecifierTest, NamesPrerelease) {
  EXPECT_TRUE(Specifier::Parse(">=1.0rc1")->NamesPrerelease());
  EXPECT_TRUE(Specifier::Parse("==1.0.dev1")->NamesPrerelease());
  EXPECT_TRUE(Specifier::Parse("~=1.0a1")->NamesPrerelease());
  EXPECT_TRUE(Specifier::Parse("===1.0a1")->NamesPrerelease());
  EXPECT_FALSE(Specifier::Parse(">=1.0")->NamesPrerelease());
  EXPECT_FALSE(Specifier::Parse("<1.0rc1")->NamesPrerelease());
  EXPECT_FALSE(Specifier::Parse("!=1.0rc1")->NamesPrerelease());
  EXPECT_FALSE(Specifier::Parse("===foo")->NamesPrerelease());
  EXPECT_EQ(Specifier::Parse("<=1")->op(), Specifier::Op::kLessEqual);
  EXPECT_EQ(Specifier::Parse("===1")->op(), Specifier::Op::kArbitrary);
}

}  // namespace
}  // namespace pipy::pep440
