#include "http/request_line.h"

#include <gtest/gtest.h>

namespace pipy::http {
namespace {

TEST(RequestLine, KnownMethods) {
  for (const char* m : {"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"}) {
    EXPECT_TRUE(IsKnownMethod(m)) << m;
  }
  for (const char* m : {"get", "BREW", "", "GETX", "PROPFIND"}) {
    EXPECT_FALSE(IsKnownMethod(m)) << m;
  }
}

TEST(RequestLine, VersionTokens) {
  EXPECT_TRUE(IsWellFormedVersionLine("GET / HTTP/1.1\r\n"));
  EXPECT_TRUE(IsWellFormedVersionLine("GET / HTTP/2.0\r\nHost: x\r\n"));
  EXPECT_TRUE(IsWellFormedVersionLine("GET / HTTP/9\r\n"));
  EXPECT_FALSE(IsWellFormedVersionLine("GET / HTTP/1.1"));      // no CRLF yet
  EXPECT_FALSE(IsWellFormedVersionLine("GET / HTXP/1.1\r\n"));
  EXPECT_FALSE(IsWellFormedVersionLine("GET / HTTP/1..1\r\n"));
  EXPECT_FALSE(IsWellFormedVersionLine("GET / HTTP/.1\r\n"));
  EXPECT_FALSE(IsWellFormedVersionLine("GET / HTTP/1.\r\n"));
  EXPECT_FALSE(IsWellFormedVersionLine("GET / HTTP/1.1x\r\n"));
  EXPECT_FALSE(IsWellFormedVersionLine("GARBAGE\r\n"));
}

}  // namespace
}  // namespace pipy::http
