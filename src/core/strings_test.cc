#include "core/strings.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace pipy {
namespace {

using Pieces = std::vector<std::string_view>;

TEST(AsciiLowerTest, FoldsOnlyAsciiCapitals) {
  EXPECT_EQ(AsciiLower('A'), 'a');
  EXPECT_EQ(AsciiLower('Z'), 'z');
  EXPECT_EQ(AsciiLower('@'), '@');  // just below 'A'
  EXPECT_EQ(AsciiLower('['), '[');  // just above 'Z'
  EXPECT_EQ(AsciiLower("MiB Text/HTML"), "mib text/html");
  EXPECT_EQ(AsciiLower("\xc3\x84"), "\xc3\x84");  // non-ASCII bytes untouched
  EXPECT_EQ(AsciiLower(""), "");
}

TEST(EqualsIgnoreCaseTest, ComparesAsciiCaseInsensitively) {
  EXPECT_TRUE(EqualsIgnoreCase("Content-Length", "content-length"));
  EXPECT_TRUE(EqualsIgnoreCase("", ""));
  EXPECT_FALSE(EqualsIgnoreCase("close", "closed"));
  EXPECT_FALSE(EqualsIgnoreCase("a", "b"));
  EXPECT_FALSE(EqualsIgnoreCase("@", "`"));  // 0x40 vs 0x60 differ only by the case bit
}

TEST(StartsWithIgnoreCaseTest, MatchesPrefixes) {
  EXPECT_TRUE(StartsWithIgnoreCase("Bearer abc", "bearer "));
  EXPECT_TRUE(StartsWithIgnoreCase("BASIC x", "basic "));
  EXPECT_TRUE(StartsWithIgnoreCase("x", ""));
  EXPECT_FALSE(StartsWithIgnoreCase("bear", "bearer "));
  EXPECT_FALSE(StartsWithIgnoreCase("basicx", "basic "));
}

TEST(TrimTest, TrimsTheGivenSets) {
  EXPECT_EQ(TrimSpacesAndTabs(" \t a b \t"), "a b");
  EXPECT_EQ(TrimSpacesAndTabs("\na\n"), "\na\n");  // OWS does not include newlines
  EXPECT_EQ(TrimSpacesAndTabs("  "), "");
  EXPECT_EQ(TrimAsciiWhitespace("\f\v\r\n\t x y \n"), "x y");
  EXPECT_EQ(TrimAsciiWhitespace(""), "");
  EXPECT_EQ(TrimAscii("xxaxx", "x"), "a");
  EXPECT_EQ(TrimAscii(std::string_view("\0a\0", 3), " "), std::string_view("\0a\0", 3));
}

TEST(IsAsciiWhitespaceTest, IsPythonsStripSet) {
  for (char c : std::string_view(" \t\n\r\f\v")) {
    EXPECT_TRUE(IsAsciiWhitespace(c)) << static_cast<int>(c);
  }
  EXPECT_FALSE(IsAsciiWhitespace('\0'));
  EXPECT_FALSE(IsAsciiWhitespace('a'));
  EXPECT_FALSE(IsAsciiWhitespace('\xa0'));
}

TEST(SplitTest, SplitAsciiKeepsEmptyPieces) {
  EXPECT_EQ(SplitAscii("a,,b", ','), (Pieces{"a", "", "b"}));
  EXPECT_EQ(SplitAscii("", ','), (Pieces{""}));
  EXPECT_EQ(SplitAscii("a,", ','), (Pieces{"a", ""}));
  EXPECT_EQ(SplitAscii("abc", ','), (Pieces{"abc"}));
}

TEST(SplitTest, SplitOutsideQuotesHonoursQuotedStrings) {
  EXPECT_EQ(SplitOutsideQuotes("a; b=\"x;y\"; c", ';'), (Pieces{"a", " b=\"x;y\"", " c"}));
  EXPECT_EQ(SplitOutsideQuotes(R"(b="a\";c";d)", ';'), (Pieces{R"(b="a\";c")", "d"}));
  EXPECT_EQ(SplitOutsideQuotes("x,y", ','), (Pieces{"x", "y"}));
  EXPECT_EQ(SplitOutsideQuotes("", ','), (Pieces{""}));
}

TEST(HexTest, EncodesAndDecodesDigits) {
  const unsigned char bytes[] = {0x00, 0x0f, 0xa5, 0xff};
  EXPECT_EQ(HexEncode(bytes), "000fa5ff");
  EXPECT_EQ(HexEncode({}), "");
  std::string out;
  AppendHexByte(out, 0xab, HexCase::kUpper);
  AppendHexByte(out, 0x3c);
  EXPECT_EQ(out, "AB3c");
  EXPECT_EQ(HexDigitValue('0'), 0);
  EXPECT_EQ(HexDigitValue('9'), 9);
  EXPECT_EQ(HexDigitValue('a'), 10);
  EXPECT_EQ(HexDigitValue('F'), 15);
  EXPECT_EQ(HexDigitValue('g'), -1);
  EXPECT_EQ(HexDigitValue('/'), -1);
}

}  // namespace
}  // namespace pipy
