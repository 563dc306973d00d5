#include "core/escape.h"

#include <gtest/gtest.h>

#include <string>

namespace pipy {
namespace {

TEST(HtmlEscapeTest, EscapesTheFiveCharacters) {
  EXPECT_EQ(HtmlEscape("&"), "&amp;");
  EXPECT_EQ(HtmlEscape("<"), "&lt;");
  EXPECT_EQ(HtmlEscape(">"), "&gt;");
  EXPECT_EQ(HtmlEscape("\""), "&quot;");
  EXPECT_EQ(HtmlEscape("'"), "&#39;");
  EXPECT_EQ(HtmlEscape("<a href=\"x\" title='y'>Tom & Jerry</a>"),
            "&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;Tom &amp; Jerry&lt;/a&gt;");
}

TEST(HtmlEscapeTest, LeavesOtherTextAlone) {
  EXPECT_EQ(HtmlEscape(""), "");
  EXPECT_EQ(HtmlEscape("pkg-1.0-py3-none-any.whl"), "pkg-1.0-py3-none-any.whl");
  EXPECT_EQ(HtmlEscape("caf\xc3\xa9 \xff"), "caf\xc3\xa9 \xff");
  // Already-escaped text is escaped again: the function is not idempotent by design.
  EXPECT_EQ(HtmlEscape("&amp;"), "&amp;amp;");
  EXPECT_EQ(HtmlEscape(std::string("a\0b", 3)), std::string("a\0b", 3));
}

TEST(Utf8Test, AcceptsWellFormedText) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain ascii"));
  EXPECT_TRUE(IsValidUtf8(std::string("nul\0inside", 10)));
  EXPECT_TRUE(IsValidUtf8("\xc2\x80"));          // U+0080, smallest 2-byte
  EXPECT_TRUE(IsValidUtf8("\xdf\xbf"));          // U+07FF
  EXPECT_TRUE(IsValidUtf8("\xe0\xa0\x80"));      // U+0800, smallest 3-byte
  EXPECT_TRUE(IsValidUtf8("\xed\x9f\xbf"));      // U+D7FF, just below surrogates
  EXPECT_TRUE(IsValidUtf8("\xee\x80\x80"));      // U+E000, just above surrogates
  EXPECT_TRUE(IsValidUtf8("\xef\xbf\xbd"));      // U+FFFD
  EXPECT_TRUE(IsValidUtf8("\xf0\x90\x80\x80"));  // U+10000, smallest 4-byte
  EXPECT_TRUE(IsValidUtf8("\xf4\x8f\xbf\xbf"));  // U+10FFFF, largest
  EXPECT_TRUE(
      IsValidUtf8("Gr\xc3\xbc\xc3\x9f"
                  "e \xe2\x82\xac \xf0\x9f\x90\x8d"));
}

TEST(Utf8Test, RejectsMalformedText) {
  EXPECT_FALSE(IsValidUtf8("\x80"));  // lone continuation byte
  EXPECT_FALSE(IsValidUtf8("\xbf"));
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xc1\xbf"));          // overlong
  EXPECT_FALSE(IsValidUtf8("\xe0\x80\xaf"));      // overlong 3-byte
  EXPECT_FALSE(IsValidUtf8("\xe0\x9f\xbf"));      // overlong 3-byte
  EXPECT_FALSE(IsValidUtf8("\xf0\x80\x80\xaf"));  // overlong 4-byte
  EXPECT_FALSE(IsValidUtf8("\xf0\x8f\xbf\xbf"));  // overlong 4-byte
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));      // U+D800 surrogate
  EXPECT_FALSE(IsValidUtf8("\xed\xbf\xbf"));      // U+DFFF surrogate
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // U+110000
  EXPECT_FALSE(IsValidUtf8("\xf5\x80\x80\x80"));
  EXPECT_FALSE(IsValidUtf8("\xff"));
  EXPECT_FALSE(IsValidUtf8("\xfe"));
  EXPECT_FALSE(IsValidUtf8("\xc3"));              // truncated at end
  EXPECT_FALSE(IsValidUtf8("\xe2\x82"));          // truncated at end
  EXPECT_FALSE(IsValidUtf8("\xf0\x9f\x90"));      // truncated at end
  EXPECT_FALSE(IsValidUtf8("\xc3(abc"));          // bad continuation
  EXPECT_FALSE(IsValidUtf8("\xe2\x28\xa1"));      // bad continuation
  EXPECT_FALSE(IsValidUtf8("\xf0\x9f\x90\x28"));  // bad last continuation
  EXPECT_FALSE(IsValidUtf8("ok so far \xc3\xa9 then \x80"));
}

}  // namespace
}  // namespace pipy
