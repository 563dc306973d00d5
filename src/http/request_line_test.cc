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

Framing Chunked(std::vector<std::string_view> te) {
  Framing f;
  f.host_fields = 1;
  f.transfer_encoding = std::move(te);
  return f;
}

TEST(Framing, PlainRequestsPass) {
  Framing f;
  f.host_fields = 1;
  EXPECT_TRUE(CheckFraming(f).ok());
  f.content_length = true;
  EXPECT_TRUE(CheckFraming(f).ok());
  EXPECT_TRUE(CheckFraming(Chunked({"chunked"})).ok());
  EXPECT_TRUE(CheckFraming(Chunked({"Chunked"})).ok());
  EXPECT_TRUE(CheckFraming(Chunked({" chunked , "})).ok());
  Framing old;
  old.version = 10;  // HTTP/1.0 needs no Host
  EXPECT_TRUE(CheckFraming(old).ok());
}

TEST(Framing, HostMustAppearOnce) {
  Framing f;
  EXPECT_EQ(CheckFraming(f).code(), StatusCode::kInvalidArgument);
  f.host_fields = 2;
  EXPECT_EQ(CheckFraming(f).code(), StatusCode::kInvalidArgument);
  f.version = 10;
  EXPECT_EQ(CheckFraming(f).code(), StatusCode::kInvalidArgument);
}

// The smuggling probes: each would let a front end and this server split the stream
// differently.
TEST(Framing, RefusesEveryTransferEncodingButOneChunked) {
  for (std::vector<std::string_view> te :
       std::vector<std::vector<std::string_view>>{{"xchunked"},
                                                 {"chunked, gzip"},
                                                 {"gzip, chunked"},
                                                 {"chunked, chunked"},
                                                 {"chunked", "chunked"},
                                                 {"identity"},
                                                 {""},
                                                 {"chunked;q=1"}}) {
    EXPECT_EQ(CheckFraming(Chunked(te)).code(), StatusCode::kInvalidArgument)
        << (te.empty() ? "" : te[0]);
  }
  Framing both = Chunked({"chunked"});
  both.content_length = true;
  EXPECT_EQ(CheckFraming(both).code(), StatusCode::kInvalidArgument);
  Framing old = Chunked({"chunked"});
  old.version = 10;
  EXPECT_EQ(CheckFraming(old).code(), StatusCode::kInvalidArgument);
}

TEST(Framing, BareLineFeeds) {
  EXPECT_TRUE(HasBareLineFeed("5\nhello"));
  EXPECT_TRUE(HasBareLineFeed("\r\n5\nhe"));
  EXPECT_TRUE(HasBareLineFeed("\n"));
  EXPECT_FALSE(HasBareLineFeed("\r\n5"));
  EXPECT_FALSE(HasBareLineFeed("5\r"));
  EXPECT_FALSE(HasBareLineFeed(""));
}

}  // namespace
}  // namespace pipy::http
