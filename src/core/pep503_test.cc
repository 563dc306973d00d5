#include "core/pep503.h"

#include <gtest/gtest.h>

#include "core/test_util.h"

namespace pipy::pep503 {
namespace {

using ::pipy::testing::ReadTestdataLines;
using ::pipy::testing::SplitTabs;
using ::pipy::testing::Unescape;

TEST(NamesTest, EveryLineOfPep503Names) {
  bool ok = false;
  auto lines = ReadTestdataLines("pep503_names.tsv", &ok);
  ASSERT_TRUE(ok);
  ASSERT_GE(lines.size(), 30u);
  int valid = 0;
  int invalid = 0;
  for (const std::string& line : lines) {
    auto fields = SplitTabs(line);
    ASSERT_EQ(fields.size(), 2u) << line;
    // The file writes awkward bytes as escapes (\n, \\); both the literal text and the decoded
    // bytes must give the expected answer.
    const std::string raw = fields[0];
    const std::string decoded = Unescape(raw);
    if (fields[1] == "INVALID") {
      EXPECT_FALSE(IsValidName(raw)) << raw;
      EXPECT_FALSE(IsValidName(decoded)) << raw;
      ++invalid;
      continue;
    }
    EXPECT_TRUE(IsValidName(decoded)) << raw;
    EXPECT_EQ(NormalizeName(decoded), fields[1]) << raw;
    // Normalizing is idempotent and keeps the name valid.
    EXPECT_EQ(NormalizeName(fields[1]), fields[1]);
    EXPECT_TRUE(IsValidName(NormalizeName(decoded))) << raw;
    ++valid;
  }
  EXPECT_GT(valid, 0);
  EXPECT_GT(invalid, 0);
}

TEST(NamesTest, EmptyNameIsInvalid) {
  EXPECT_FALSE(IsValidName(""));
  EXPECT_EQ(NormalizeName(""), "");
}

TEST(NamesTest, MoreVectors) {
  struct Case {
    std::string_view name;
    bool valid;
    std::string_view normalized;
  };
  const Case cases[] = {
      {"a", true, "a"},
      {"Z", true, "z"},
      {"9", true, "9"},
      {"ab", true, "ab"},
      {"a.b", true, "a-b"},
      {"a._-b", true, "a-b"},
      {"A1-B2", true, "a1-b2"},
      {"-", false, "-"},
      {"_", false, "-"},
      {"a\tb", false, "a\tb"},
      {std::string_view("a\0b", 3), false, std::string_view("a\0b", 3)},
      {"a+b", false, "a+b"},
      {"a~b", false, "a~b"},
      {"a b ", false, "a b "},
      {"\xff", false, "\xff"},
      {"caf\xc3\xa9", false, "caf\xc3\xa9"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(IsValidName(c.name), c.valid) << c.name;
    EXPECT_EQ(NormalizeName(c.name), c.normalized) << c.name;
  }
}

}  // namespace
}  // namespace pipy::pep503
