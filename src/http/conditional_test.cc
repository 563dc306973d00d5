#include "http/conditional.h"

#include <gtest/gtest.h>

namespace pipy::http {
namespace {

TEST(IfNoneMatchTest, MatchesListedTags) {
  EXPECT_TRUE(IfNoneMatchMatches("\"abc\"", "\"abc\""));
  EXPECT_TRUE(IfNoneMatchMatches("\"x\", \"abc\"", "\"abc\""));
  EXPECT_TRUE(IfNoneMatchMatches("\"x\",\"abc\"  ", "\"abc\""));
  EXPECT_TRUE(IfNoneMatchMatches("\"a,b\", \"abc\"", "\"abc\""));
}

TEST(IfNoneMatchTest, ComparesWeakly) {
  EXPECT_TRUE(IfNoneMatchMatches("W/\"abc\"", "\"abc\""));
  EXPECT_TRUE(IfNoneMatchMatches("\"x\", W/\"abc\"", "\"abc\""));
  EXPECT_TRUE(IfNoneMatchMatches("\"abc\"", "W/\"abc\""));
}

TEST(IfNoneMatchTest, StarMatchesAnyCurrentRepresentation) {
  EXPECT_TRUE(IfNoneMatchMatches("*", "\"abc\""));
  EXPECT_TRUE(IfNoneMatchMatches(" * ", "\"abc\""));
  EXPECT_FALSE(IfNoneMatchMatches("*", ""));
}

TEST(IfNoneMatchTest, RejectsOthers) {
  EXPECT_FALSE(IfNoneMatchMatches(std::nullopt, "\"abc\""));
  EXPECT_FALSE(IfNoneMatchMatches("", "\"abc\""));
  EXPECT_FALSE(IfNoneMatchMatches("\"abcd\"", "\"abc\""));
  EXPECT_FALSE(IfNoneMatchMatches("\"abd\"", "\"abc\""));
  EXPECT_FALSE(IfNoneMatchMatches("abc", "\"abc\""));
  EXPECT_FALSE(IfNoneMatchMatches("\"a,\"abc\"\"", "\"abc\""));
  EXPECT_FALSE(IfNoneMatchMatches("\"abc\"", ""));
}

}  // namespace
}  // namespace pipy::http
