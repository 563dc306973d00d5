// Unit tests of the Beast-free pieces: messages, the status table, targets, the wire head.
#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <memory>

#include "http/message.h"
#include "http/target.h"
#include "http/wire.h"

namespace pipy::http {
namespace {

TEST(MessageTest, HeaderLookupIsCaseInsensitive) {
  Request r;
  r.headers = {{"Content-Type", "text/html"}, {"X-A", "1"}, {"x-a", "2"}};
  EXPECT_EQ(r.header("content-type"), "text/html");
  EXPECT_EQ(r.header("X-A"), "1");
  EXPECT_FALSE(r.header("Accept").has_value());
  Response resp;
  resp.SetHeader("ETag", "\"a\"").SetHeader("etag", "\"b\"");
  ASSERT_EQ(resp.headers.size(), 1u);
  EXPECT_EQ(resp.header("ETAG"), "\"b\"");
}

TEST(MessageTest, FileBodyFdClosedByOwnerOnly) {
  int fd = ::open("/dev/null", O_RDONLY);
  ASSERT_GE(fd, 0);
  {
    Response a;
    a.body = FileBody{fd, 0, 0};
    Response b(std::move(a));
    Response c;
    c = std::move(b);
    EXPECT_NE(::fcntl(fd, F_GETFD), -1);  // still open: moves transfer ownership
  }
  EXPECT_EQ(::fcntl(fd, F_GETFD), -1);  // closed by the last owner
}

TEST(MessageTest, FileBodyWithAnOwnerLeavesTheFdToIt) {
  int fd = ::open("/dev/null", O_RDONLY);
  ASSERT_GE(fd, 0);
  auto owner = std::shared_ptr<const int>(new int(fd), [](const int* p) {
    ::close(*p);
    delete p;
  });
  {
    Response a;
    a.body = FileBody{fd, 0, 0, owner};
    Response b(std::move(a));
    Response c;
    c.body = FileBody{fd, 0, 0, owner};
    c = std::move(b);  // the replaced body must not close the shared fd either
  }
  EXPECT_NE(::fcntl(fd, F_GETFD), -1);  // the responses are gone; the owner keeps it
  EXPECT_EQ(owner.use_count(), 1);      // and they let go of the owner
  owner.reset();
  EXPECT_EQ(::fcntl(fd, F_GETFD), -1);
}

TEST(StatusMapTest, TheOneTable) {
  EXPECT_EQ(HttpStatusFor(StatusCode::kInvalidArgument), 400);
  EXPECT_EQ(HttpStatusFor(StatusCode::kUnauthenticated), 401);
  EXPECT_EQ(HttpStatusFor(StatusCode::kPermissionDenied), 403);
  EXPECT_EQ(HttpStatusFor(StatusCode::kNotFound), 404);
  EXPECT_EQ(HttpStatusFor(StatusCode::kNotAcceptable), 406);
  EXPECT_EQ(HttpStatusFor(StatusCode::kAlreadyExists), 409);
  EXPECT_EQ(HttpStatusFor(StatusCode::kTooLarge), 413);
  EXPECT_EQ(HttpStatusFor(StatusCode::kInternal), 500);
  EXPECT_EQ(HttpStatusFor(StatusCode::kDataLoss), 500);
  EXPECT_EQ(HttpStatusFor(StatusCode::kBadGateway), 502);
  EXPECT_EQ(HttpStatusFor(StatusCode::kUnavailable), 503);
  EXPECT_EQ(HttpStatusFor(StatusCode::kDeadlineExceeded), 504);
}

TEST(StatusMapTest, ErrorResponseReasonIsOneSanitizedLine) {
  Response r = ErrorResponse(AlreadyExists("file exists\r\nX-Evil: 1 \xc3\xa9"));
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(r.reason.find_first_of("\r\n"), std::string::npos);
  for (char c : r.reason) {
    EXPECT_TRUE(c >= 0x20 && c < 0x7f);
  }
  EXPECT_EQ(std::get<std::string>(r.body), "file exists\r\nX-Evil: 1 \xc3\xa9\n");
  EXPECT_LE(ErrorResponse(InvalidArgument(std::string(1000, 'x'))).reason.size(), 200u);
  Response unauth = ErrorResponse(Unauthenticated("token required"));
  EXPECT_EQ(unauth.status, 401);
  EXPECT_EQ(unauth.header("WWW-Authenticate"), "Basic realm=\"pipy\"");
  EXPECT_FALSE(r.header("WWW-Authenticate").has_value());
}

TEST(TargetTest, DecodesPathAndSplitsQuery) {
  auto t = ParseTarget("/simple/Foo%20Bar/?a=1&b=%20");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->path, "/simple/Foo Bar/");
  EXPECT_EQ(t->query, "a=1&b=%20");
  auto abs = ParseTarget("http://example.com:8080/x/y?z");
  ASSERT_TRUE(abs.has_value());
  EXPECT_EQ(abs->path, "/x/y");
  EXPECT_EQ(abs->query, "z");
  auto utf8 = ParseTarget("/caf%C3%A9");
  ASSERT_TRUE(utf8.has_value());
  EXPECT_EQ(utf8->path, "/caf\xc3\xa9");
}

TEST(TargetTest, RejectsBadPaths) {
  EXPECT_FALSE(ParseTarget("/a%00b").has_value());
  EXPECT_FALSE(ParseTarget("/a%ff").has_value());
  EXPECT_FALSE(ParseTarget("/a%c0%af").has_value());  // overlong '/'
  EXPECT_FALSE(ParseTarget("/a%ed%a0%80").has_value());  // surrogate
  EXPECT_FALSE(ParseTarget("/a%2").has_value());
  EXPECT_FALSE(ParseTarget("/a%zz").has_value());
  EXPECT_FALSE(ParseTarget("*").has_value());
  EXPECT_FALSE(ParseTarget("").has_value());
}

TEST(TargetTest, ListenAddresses) {
  auto v4 = ParseListenAddress("127.0.0.1:0");
  ASSERT_TRUE(v4.has_value());
  EXPECT_EQ(v4->host, "127.0.0.1");
  EXPECT_EQ(v4->port, 0);
  auto v6 = ParseListenAddress("[::1]:8080");
  ASSERT_TRUE(v6.has_value());
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 8080);
  EXPECT_FALSE(ParseListenAddress("::1:8080").has_value());
  EXPECT_FALSE(ParseListenAddress("host").has_value());
  EXPECT_FALSE(ParseListenAddress("host:99999").has_value());
  EXPECT_FALSE(ParseListenAddress(":80").has_value());
}

TEST(WireTest, HeadCarriesFramingAndDropsUnsafeHeaders) {
  Response r = TextResponse(200, "hello");
  r.SetHeader("X-Ok", "1");
  r.SetHeader("X-Bad", "a\r\nSet-Cookie: x");
  r.SetHeader("Content-Length", "999");
  std::string head;
  AppendResponseHead(head, r, 5, false, ConnectionHeader::kClose);
  EXPECT_TRUE(head.starts_with("HTTP/1.1 200 OK\r\n"));
  EXPECT_NE(head.find("X-Ok: 1\r\n"), std::string::npos);
  EXPECT_EQ(head.find("X-Bad"), std::string::npos);
  EXPECT_EQ(head.find("999"), std::string::npos);
  EXPECT_NE(head.find("Content-Length: 5\r\n"), std::string::npos);
  EXPECT_NE(head.find("Server: pipy\r\n"), std::string::npos);
  EXPECT_NE(head.find("Connection: close\r\n"), std::string::npos);
  EXPECT_TRUE(head.ends_with("\r\n\r\n"));

  Response custom = ErrorResponse(AlreadyExists("File already exists"));
  std::string head2;
  AppendResponseHead(head2, custom, std::nullopt, true, ConnectionHeader::kNone);
  EXPECT_TRUE(head2.starts_with("HTTP/1.1 409 File already exists\r\n"));
  EXPECT_NE(head2.find("Transfer-Encoding: chunked\r\n"), std::string::npos);
  EXPECT_EQ(head2.find("Connection:"), std::string::npos);
}

// "cannot write the request body to /.../data/spool/pipy-body-...: No space left on device"
// told every client where the data folder lives.
TEST(StatusMapTest, ErrorAnswersNameNoServerPath) {
  Response full = ErrorResponse(InsufficientStorage(
      "cannot write the request body to /srv/pipy/data/spool/pipy-body-00ff: No space left"));
  EXPECT_EQ(full.status, 507);
  EXPECT_EQ(full.reason, "cannot write the request body to [server path]: No space left");
  EXPECT_EQ(std::get<std::string>(full.body).find("/srv"), std::string::npos);
  // 5xx: any absolute path; URLs and relative names stay.
  EXPECT_EQ(RedactServerPaths("open '/var/lib/x/y' failed at http://h:9000/b/k", 503),
            "open '[server path]' failed at http://h:9000/b/k");
  // 4xx: only paths under the server's own folders, so routes in messages stay readable.
  SetServerFolders({"/srv/pipy/data"});
  EXPECT_EQ(RedactServerPaths("bad archive /srv/pipy/data/uploads/u-1: truncated", 400),
            "bad archive [server path]: truncated");
  EXPECT_EQ(RedactServerPaths("see /simple/x/ for the project", 404),
            "see /simple/x/ for the project");
  SetServerFolders({});
}

}  // namespace
}  // namespace pipy::http
