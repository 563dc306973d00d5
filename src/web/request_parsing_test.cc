#include "web/request_parsing.h"

#include <gtest/gtest.h>

namespace pipy::web {
namespace {

TEST(QueryParamTest, DecodesFormEncoding) {
  EXPECT_EQ(QueryParam("q=acme+log", "q"), "acme log");
  EXPECT_EQ(QueryParam("a=1&q=%3Cx%3E&q=second", "q"), "<x>");
  EXPECT_EQ(QueryParam("q=100%", "q"), "100%");   // malformed escape kept
  EXPECT_EQ(QueryParam("q=%zz", "q"), "%zz");
  EXPECT_EQ(QueryParam("qq=1&xq=2", "q"), "");
  EXPECT_EQ(QueryParam("", "q"), "");
  EXPECT_EQ(QueryParam("q", "q"), "");
}

}  // namespace
}  // namespace pipy::web
