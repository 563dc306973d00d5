#include "python/conditional.h"

#include <gtest/gtest.h>

namespace pipy::python {
namespace {

TEST(IfNoneMatchTest, MatchesListedTags) {
  EXPECT_TRUE(IfNoneMatchMatches("\"abc\"", "\"abc\""));
  EXPECT_TRUE(IfNoneMatchMatches("\"x\", \"abc\"", "\"abc\""));
  EXPECT_TRUE(IfNoneMatchMatches("\"x\",\"abc\"  ", "\"abc\""));
  EXPECT_TRUE(IfNoneMatchMatches("W/\"abc\"", "\"abc\""));
  EXPECT_TRUE(IfNoneMatchMatches("*", "\"abc\""));
  EXPECT_TRUE(IfNoneMatchMatches("\"a,b\", \"abc\"", "\"abc\""));
}

TEST(IfNoneMatchTest, RejectsOthers) {
  EXPECT_FALSE(IfNoneMatchMatches(std::nullopt, "\"abc\""));
  EXPECT_FALSE(IfNoneMatchMatches("", "\"abc\""));
  EXPECT_FALSE(IfNoneMatchMatches("\"abcd\"", "\"abc\""));
  EXPECT_FALSE(IfNoneMatchMatches("abc", "\"abc\""));
  EXPECT_FALSE(IfNoneMatchMatches("\"a,\"abc\"\"", "\"abc\""));
  EXPECT_FALSE(IfNoneMatchMatches("\"abc\"", ""));
}

}  // namespace
}  // namespace pipy::python
