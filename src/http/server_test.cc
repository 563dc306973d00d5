// End-to-end tests of the server over real sockets on 127.0.0.1 (raw POSIX sockets, so this
// file does not pay for Beast).
#include "http/server.h"
#include "http/server_test_util.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <random>
#include <thread>

#include <gtest/gtest.h>

namespace pipy::http {
namespace {

using namespace testing_util;  // NOLINT: test helpers
using namespace std::chrono_literals;
namespace fs = std::filesystem;


TEST_F(ServerTest, GetRoundTrip) {
  StartServer();
  Conn c(port_);
  auto r = c.Get("/hello/world");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "hello world");
  EXPECT_EQ(r->header("Content-Length"), "11");
  EXPECT_EQ(r->header("Server"), "pipy");
  EXPECT_TRUE(r->header("Date").has_value());
  // The request is counted once its response has been written, which may be just after
  // the client has read it: wait for the count (bounded).
  const std::string counted = "pipy_http_requests_total{route=\"hello\",status=\"200\"} 1";
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (metrics_.Render().find(counted) == std::string::npos &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_NE(metrics_.Render().find(counted), std::string::npos);
}

TEST_F(ServerTest, KeepAliveServesThreeRequestsOnOneConnection) {
  StartServer();
  Conn c(port_);
  for (std::string name : {"a", "b", "c"}) {
    auto r = c.Get("/hello/" + name);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->body, "hello " + name);
  }
  EXPECT_EQ(calls_.load(), 3);
}

TEST_F(ServerTest, PipelinedRequestsAnsweredInOrder) {
  StartServer();
  Conn c(port_);
  c.Send("GET /hello/1 HTTP/1.1\r\nHost: x\r\n\r\nGET /hello/2 HTTP/1.1\r\nHost: x\r\n\r\n"
         "GET /hello/3 HTTP/1.1\r\nHost: x\r\n\r\n");
  for (std::string n : {"1", "2", "3"}) {
    auto r = c.Read();
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->body, "hello " + n);
  }
}

TEST_F(ServerTest, HeadHasHeadersButNoBody) {
  StartServer();
  Conn c(port_);
  c.Send("HEAD /hello/x HTTP/1.1\r\nHost: x\r\n\r\n");
  auto r = c.Read(/*head_request=*/true);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->header("Content-Length"), "7");
  // Had body bytes been sent, they would be read as the next response's status line.
  auto next = c.Get("/hello/y");
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->status, 200);
  EXPECT_EQ(next->body, "hello y");
}

TEST_F(ServerTest, NotFoundMethodNotAllowedNotImplementedVersion) {
  router_.Add("POST", "/hello/{name}", {}, [](Request&) { return TextResponse(201, ""); });
  StartServer();
  {
    Conn c(port_);
    auto r = c.Get("/nope");
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->status, 404);
  }
  {
    Conn c(port_);
    c.Send("DELETE /hello/x HTTP/1.1\r\nHost: x\r\n\r\n");
    auto r = c.Read();
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->status, 405);
    EXPECT_EQ(r->header("Allow"), "GET, HEAD, POST");
  }
  {
    Conn c(port_);
    c.Send("BREW /hello/x HTTP/1.1\r\nHost: x\r\n\r\n");
    auto r = c.Read();
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->status, 501);
  }
  for (std::string version : {"HTTP/2.0", "HTTP/1.2", "HTTP/3"}) {
    Conn c(port_);
    c.Send("GET /hello/x " + version + "\r\nHost: x\r\n\r\n");
    auto r = c.Read();
    ASSERT_TRUE(r.has_value()) << version;
    EXPECT_EQ(r->status, 505) << version;
  }
  for (std::string malformed : {"GET /hello/x HTTP/1.1\nHost: x\n\n", "GET /hello/x HTTP/x\r\n\r\n",
                                "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"}) {
    Conn c(port_);
    c.Send(malformed);
    auto r = c.Read();
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->status, 400) << malformed;
  }
  {
    Conn c(port_);
    c.Send("GET /hello/x HTTP/1.1\r\nBad Header\r\n\r\n");
    auto r = c.Read();
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->status, 400);
    EXPECT_TRUE(c.ClosedWithin(10s));  // after up to 2 s of lingering
  }
  EXPECT_EQ(calls_.load(), 0);
}

TEST_F(ServerTest, BadPathsGet400) {
  StartServer();
  for (std::string path : {"/hello/a%00b", "/hello/%ff", "/hello/%zz"}) {
    Conn c(port_);
    auto r = c.Get(path);
    ASSERT_TRUE(r.has_value()) << path;
    EXPECT_EQ(r->status, 400) << path;
  }
  Conn c(port_);
  auto ok = c.Get("/hello/caf%C3%A9");
  ASSERT_TRUE(ok.has_value());
  EXPECT_EQ(ok->body, "hello caf\xc3\xa9");
}

TEST_F(ServerTest, OversizedHeaderGets431) {
  ServerOptions o;
  o.max_header_bytes = 4096;
  StartServer(o);
  Conn c(port_);
  c.Send("GET /hello/x HTTP/1.1\r\nX-Big: " + std::string(8000, 'a') + "\r\n\r\n");
  auto r = c.Read();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 431);
  EXPECT_EQ(calls_.load(), 0);
}

TEST_F(ServerTest, ContentLengthOverLimitGets413WithoutReadingBody) {
  router_.Add("POST", "/up", Opts("up", 1000), [this](Request&) {
    ++calls_;
    return TextResponse(200, "ok");
  });
  StartServer();
  Conn c(port_);
  // No body is sent at all: the answer must come from the header alone.
  c.Send("POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n");
  auto r = c.Read();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 413);
  // The reason phrase names the limit: twine shows the user only that line.
  EXPECT_EQ(r->reason, "the request body is larger than this route's limit of 1000 bytes");
  EXPECT_EQ(r->header("Connection"), "close");
  EXPECT_EQ(calls_.load(), 0);
}

TEST_F(ServerTest, ChunkedBodyOverLimitGets413) {
  router_.Add("POST", "/up", Opts("up", 1000), [this](Request&) {
    ++calls_;
    return TextResponse(200, "ok");
  });
  StartServer();
  Conn c(port_);
  std::string chunk = "258\r\n" + std::string(600, 'x') + "\r\n";  // 0x258 = 600
  c.Send("POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk + chunk +
         chunk + "0\r\n\r\n");
  auto r = c.Read();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 413);
  EXPECT_EQ(calls_.load(), 0);
}

TEST_F(ServerTest, GuardRejectsBeforeHandlerAndBody) {
  RouteOptions options;
  options.guard = [](const Request& r) -> std::optional<Response> {
    if (r.header("Authorization").has_value()) {
      return std::nullopt;
    }
    return ErrorResponse(Unauthenticated("credentials required"));
  };
  router_.Add("POST", "/up", std::move(options), [this](Request& r) {
    ++calls_;
    return TextResponse(200, r.body.memory);
  });
  StartServer();
  {
    Conn c(port_);
    c.Send("POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n");
    auto r = c.Read();
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->status, 401);
    EXPECT_EQ(r->reason, "credentials required");
    EXPECT_EQ(r->header("WWW-Authenticate"), "Basic realm=\"pipy\"");
    EXPECT_TRUE(c.ClosedWithin(10s));  // the announced body was never read
  }
  EXPECT_EQ(calls_.load(), 0);
  Conn c(port_);
  c.Send("POST /up HTTP/1.1\r\nHost: x\r\nAuthorization: t\r\nContent-Length: 5\r\n\r\nhello");
  auto r = c.Read();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "hello");
}

TEST_F(ServerTest, SmallBodyInMemoryWithExpectContinue) {
  router_.Add("POST", "/up", {}, [](Request& r) {
    return TextResponse(200, (r.body.in_file() ? "file:" : "memory:") + r.body.memory);
  });
  StartServer();
  Conn c(port_);
  c.Send("POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\nExpect: 100-continue\r\n\r\n");
  auto cont = c.Read();
  ASSERT_TRUE(cont.has_value());
  EXPECT_EQ(cont->status, 100);
  c.Send("hello world");
  auto r = c.Read();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->body, "memory:hello world");
}

TEST_F(ServerTest, LargeBodySpooledToFileDeletedAfterwards) {
  std::string seen_path;
  std::string seen_content;
  router_.Add("POST", "/up", Opts("up", 1 << 20), [&](Request& r) {
    if (r.body.in_file()) {
      seen_path = r.body.file.string();
      std::ifstream in(r.body.file, std::ios::binary);
      seen_content.assign(std::istreambuf_iterator<char>(in), {});
    }
    return TextResponse(200, std::to_string(r.body.size));
  });
  ServerOptions o;
  o.spool_threshold_bytes = 1024;
  StartServer(o);
  std::string body(100'000, '\0');
  std::mt19937 rng(7);
  for (char& ch : body) {
    ch = static_cast<char>(rng());
  }
  for (bool chunked : {false, true}) {
    seen_path.clear();
    seen_content.clear();
    Conn c(port_);
    if (chunked) {
      char size[16];
      std::snprintf(size, sizeof(size), "%zx\r\n", body.size());
      c.Send("POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" +
             std::string(size) + body + "\r\n0\r\n\r\n");
    } else {
      c.Send("POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n" + body);
    }
    auto r = c.Read();
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->body, "100000");
    ASSERT_FALSE(seen_path.empty()) << "body was not spooled";
    EXPECT_EQ(fs::path(seen_path).parent_path(), dir_ / "spool");
    EXPECT_TRUE(seen_content == body);
    auto deadline = std::chrono::steady_clock::now() + 2s;
    while (fs::exists(seen_path) && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(10ms);
    }
    EXPECT_FALSE(fs::exists(seen_path));
  }
}

TEST_F(ServerTest, FileBodyDeliveredByteExact) {
  fs::path file = dir_ / "blob";
  std::string content(3 * 1024 * 1024 + 123, '\0');
  std::mt19937 rng(1);
  for (char& ch : content) {
    ch = static_cast<char>(rng());
  }
  std::ofstream(file, std::ios::binary) << content;
  router_.Add("GET", "/file", {}, [&](Request&) {
    Response r;
    r.body = FileBody{::open(file.c_str(), O_RDONLY | O_CLOEXEC), 10, content.size() - 10};
    return r;
  });
  StartServer();
  Conn c(port_);
  for (int i = 0; i < 2; ++i) {
    auto r = c.Get("/file");
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->header("Content-Length"), std::to_string(content.size() - 10));
    EXPECT_TRUE(r->body == content.substr(10));
  }
}

TEST_F(ServerTest, SmallAndEmptyFileBodiesOfOneSharedFile) {
  // Pages sent from one shared file (the page cache's spill): small ranges, an empty one
  // (its head must not wait for bytes that never come), one after another on a connection.
  fs::path file = dir_ / "pages";
  const std::string content = "<html>first</html><html>second page</html>";
  std::ofstream(file, std::ios::binary) << content;
  auto shared = std::shared_ptr<const int>(new int(::open(file.c_str(), O_RDONLY | O_CLOEXEC)),
                                           [](const int* fd) {
                                             ::close(*fd);
                                             delete fd;
                                           });
  router_.Add("GET", "/first", {}, [&](Request&) {
    Response r;
    r.body = FileBody{*shared, 0, 18, shared};
    return r;
  });
  router_.Add("GET", "/second", {}, [&](Request&) {
    Response r;
    r.body = FileBody{*shared, 18, content.size() - 18, shared};
    return r;
  });
  router_.Add("GET", "/empty", {}, [&](Request&) {
    Response r;
    r.body = FileBody{*shared, 5, 0, shared};
    return r;
  });
  StartServer();
  Conn c(port_);
  for (int i = 0; i < 3; ++i) {
    auto first = c.Get("/first");
    ASSERT_TRUE(first.has_value());
    EXPECT_EQ(first->body, "<html>first</html>");
    auto empty = c.Get("/empty");
    ASSERT_TRUE(empty.has_value());
    EXPECT_EQ(empty->header("Content-Length"), "0");
    EXPECT_EQ(empty->body, "");
    auto second = c.Get("/second");
    ASSERT_TRUE(second.has_value());
    EXPECT_EQ(second->body, "<html>second page</html>");
  }
  EXPECT_NE(::fcntl(*shared, F_GETFD), -1);  // no response closed the shared file
}

TEST_F(ServerTest, StreamBodyChunkedAndWithLength) {
  auto make_stream = [](std::size_t total, std::optional<std::uint64_t> length) {
    auto sent = std::make_shared<std::size_t>(0);
    StreamBody s;
    s.length = length;
    s.read = [sent, total](char* buf, std::size_t n) -> Result<std::size_t> {
      std::size_t k = std::min<std::size_t>({n, 1000, total - *sent});
      for (std::size_t i = 0; i < k; ++i) {
        buf[i] = static_cast<char>('a' + (*sent + i) % 26);
      }
      *sent += k;
      return k;
    };
    return s;
  };
  std::string expected;
  for (std::size_t i = 0; i < 200'000; ++i) {
    expected.push_back(static_cast<char>('a' + i % 26));
  }
  router_.Add("GET", "/chunked", {}, [&](Request&) {
    Response r;
    r.body = make_stream(200'000, std::nullopt);
    return r;
  });
  router_.Add("GET", "/sized", {}, [&](Request&) {
    Response r;
    r.body = make_stream(200'000, 200'000);
    return r;
  });
  StartServer();
  Conn c(port_);
  auto chunked = c.Get("/chunked");
  ASSERT_TRUE(chunked.has_value());
  EXPECT_EQ(chunked->header("Transfer-Encoding"), "chunked");
  EXPECT_TRUE(chunked->body == expected);
  auto sized = c.Get("/sized");
  ASSERT_TRUE(sized.has_value());
  EXPECT_EQ(sized->header("Content-Length"), "200000");
  EXPECT_TRUE(sized->body == expected);
}

TEST_F(ServerTest, HandlerExceptionGets500) {
  router_.Add("GET", "/boom", {}, [](Request&) -> Response { throw std::runtime_error("x"); });
  StartServer();
  Conn c(port_);
  auto r = c.Get("/boom");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 500);
  auto next = c.Get("/hello/z");  // the connection survives
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->status, 200);
}

// With one I/O thread, a blocking read of a half-sent header would hold up `fast` until
// the header deadline (a minute here): `fast` is answered while `slow` is still pending.
TEST_F(ServerTest, SlowHeaderDoesNotBlockOthers) {
  ServerOptions o;
  o.header_timeout = 60s;
  o.threads = 1;
  StartServer(o);
  Conn slow(port_);
  slow.Send("GET /hello/slow HTTP/1.1\r\nHo");
  std::this_thread::sleep_for(100ms);  // lets the server start on `slow` first
  Conn fast(port_);
  auto r = fast.Get("/hello/fast");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->body, "hello fast");
  slow.Send("st: x\r\n\r\n");  // the rest of the header: `slow` was waiting, not dropped
  auto late = slow.Read();
  ASSERT_TRUE(late.has_value());
  EXPECT_EQ(late->body, "hello slow");
  EXPECT_EQ(calls_.load(), 2);
}

// header_timeout bounds the whole header, not the gap between bytes: a client dripping a
// byte every 100 ms would otherwise hold the connection until the 16 KiB header cap
// (about half an hour).
TEST_F(ServerTest, DrippedHeaderIsCutAtTheHeaderDeadline) {
  ServerOptions o;
  o.header_timeout = 500ms;
  StartServer(o);
  Conn slow(port_);
  std::atomic<bool> stop_dripping{false};
  std::thread dripper([&] {
    std::string header = "GET /hello/slow HTTP/1.1\r\nHost: x\r\nX-Drip: ";
    for (std::size_t i = 0; !stop_dripping.load(); ++i) {
      char ch = i < header.size() ? header[i] : 'a';  // never ends
      if (::send(slow.fd(), &ch, 1, MSG_NOSIGNAL) != 1) {
        return;  // closed by the server
      }
      std::this_thread::sleep_for(100ms);
    }
  });
  EXPECT_TRUE(slow.ClosedWithin(10s)) << "a dripping client kept the connection";
  stop_dripping = true;
  dripper.join();
  EXPECT_EQ(calls_.load(), 0);
}

// The idle deadline starts after a response: the connection serves the next request,
// then closes once it has been idle for idle_timeout (60 s by default).
TEST_F(ServerTest, IdleConnectionClosedAfterIdleTimeout) {
  ServerOptions o;
  o.idle_timeout = 2s;
  StartServer(o);
  Conn c(port_);
  auto first = c.Get("/hello/x");
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->header("Connection"), std::nullopt);  // kept alive
  auto second = c.Get("/hello/y");
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->body, "hello y");
  EXPECT_TRUE(c.ClosedWithin(20s));
}

// Stop() closes idle connections instead of waiting for them: with a long grace period
// for in-flight requests, a Stop() that waited on these two would take a minute.
TEST_F(ServerTest, StopReturnsPromptlyWithConnectedClient) {
  ServerOptions o;
  o.stop_grace = 60s;
  StartServer(o);
  Conn idle(port_);
  Conn used(port_);
  ASSERT_TRUE(used.Get("/hello/x").has_value());
  auto stopped = std::async(std::launch::async, [this] { StopServer(); });
  EXPECT_EQ(stopped.wait_for(20s), std::future_status::ready)
      << "Stop() waited for idle connections";
  stopped.wait();
  EXPECT_TRUE(idle.ClosedWithin(5s));
  EXPECT_TRUE(used.ClosedWithin(5s));
}

TEST_F(ServerTest, Http10ClosesAndRemoteAddressIsPeerIp) {
  router_.Add("GET", "/whoami", Opts("whoami"),
              [](Request& r) { return TextResponse(200, r.remote_address); });
  StartServer();
  Conn c(port_);
  c.Send("GET /whoami HTTP/1.0\r\n\r\n");
  auto r = c.Read();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->body, "127.0.0.1");
  EXPECT_EQ(r->header("Connection"), "close");
  EXPECT_TRUE(c.ClosedWithin(5s));
}

TEST_F(ServerTest, ListensOnIpv6Loopback) {
  ServerOptions o;
  o.listen = "[::1]:0";
  o.spool_dir = dir_;
  o.access_log = false;
  Server v6(o, router_, metrics_);
  Result<int> port = v6.Start();
  if (!port.has_value()) {
    GTEST_SKIP() << "no IPv6 loopback here: " << port.error().ToString();
  }
  std::thread runner([&] { v6.Run(); });
  int fd = ::socket(AF_INET6, SOCK_STREAM, 0);
  sockaddr_in6 addr{};
  addr.sin6_family = AF_INET6;
  addr.sin6_port = htons(static_cast<uint16_t>(*port));
  addr.sin6_addr = in6addr_loopback;
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  std::string request = "GET /hello/six HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  ASSERT_EQ(::send(fd, request.data(), request.size(), 0), static_cast<ssize_t>(request.size()));
  std::string got;
  char buf[4096];
  ssize_t n;
  while ((n = ::recv(fd, buf, sizeof(buf), 0)) > 0) {
    got.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  v6.Stop();
  runner.join();
  EXPECT_TRUE(got.starts_with("HTTP/1.1 200"));
  EXPECT_TRUE(got.ends_with("hello six"));
}

TEST_F(ServerTest, StartReportsBadAddressAndPortInUse) {
  ServerOptions o;
  o.listen = "not-an-address";
  o.spool_dir = dir_;
  Server bad(o, router_, metrics_);
  EXPECT_FALSE(bad.Start().has_value());
  StartServer();
  ServerOptions same;
  same.listen = "127.0.0.1:" + std::to_string(port_);
  same.spool_dir = dir_;
  Server second(same, router_, metrics_);
  EXPECT_FALSE(second.Start().has_value());
}

}  // namespace
}  // namespace pipy::http

namespace pipy::http {
namespace {

// With one I/O thread, a route marked `blocking` whose handler waits must not hold up
// other connections: it runs on the blocking pool. The handler waits until `fast` has
// been answered, which cannot happen if it holds the only I/O thread.
TEST_F(ServerTest, BlockingRoutesDoNotStallTheIoThread) {
  Gate gate;
  OpenAtExit open_at_exit{gate};
  RouteOptions slow = Opts("slow");
  slow.blocking = true;
  router_.Add("GET", "/slow", slow, [gate](Request&) {
    gate.Pass();
    return TextResponse(200, "slow done");
  });
  ServerOptions o;
  o.threads = 1;
  StartServer(o);
  Conn waiting(port_);
  waiting.Send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_TRUE(gate.WaitEntered());
  Conn fast(port_);
  auto r = fast.Get("/hello/fast");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->body, "hello fast");
  gate.Open();
  auto slow_reply = waiting.Read();
  ASSERT_TRUE(slow_reply.has_value());
  EXPECT_EQ(slow_reply->body, "slow done");
}

// Reads of a StreamBody may wait on a network: they run off the I/O thread too. Each
// read waits until `fast` has been answered.
TEST_F(ServerTest, SlowStreamReadsDoNotStallTheIoThread) {
  Gate gate;
  OpenAtExit open_at_exit{gate};
  router_.Add("GET", "/trickle", Opts("trickle"), [gate](Request&) {
    Response response;
    auto sent = std::make_shared<int>(0);
    StreamBody body;
    body.length = 3;
    body.read = [sent, gate](char* buf, std::size_t n) -> Result<std::size_t> {
      gate.Pass();
      if (*sent >= 3 || n == 0) {
        return std::size_t{0};
      }
      buf[0] = static_cast<char>('a' + (*sent)++);
      return std::size_t{1};
    };
    response.body = std::move(body);
    return response;
  });
  ServerOptions o;
  o.threads = 1;
  StartServer(o);
  Conn trickle(port_);
  trickle.Send("GET /trickle HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_TRUE(gate.WaitEntered());
  Conn fast(port_);
  auto r = fast.Get("/hello/fast");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->body, "hello fast");
  gate.Open();
  auto streamed = trickle.Read();
  ASSERT_TRUE(streamed.has_value());
  EXPECT_EQ(streamed->body, "abc");
}

}  // namespace
}  // namespace pipy::http

namespace pipy::http {
namespace {

// A handler may answer inline or hand the slow part to the blocking pool through
// continue_blocking; with one I/O thread, others are served meanwhile. The continuation
// waits until `fast` has been answered.
TEST_F(ServerTest, ContinueBlockingRunsOffTheIoThread) {
  Gate gate;
  OpenAtExit open_at_exit{gate};
  router_.Add("GET", "/maybe/{kind}", Opts("maybe"), [gate](Request& request) {
    if (request.param("kind") == "fast") {
      return TextResponse(200, "inline");
    }
    Response deferred;
    deferred.continue_blocking = [gate] {
      gate.Pass();
      return TextResponse(200, "deferred");
    };
    return deferred;
  });
  ServerOptions o;
  o.threads = 1;
  StartServer(o);
  Conn waiting(port_);
  waiting.Send("GET /maybe/slow HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_TRUE(gate.WaitEntered());
  Conn fast(port_);
  auto r = fast.Get("/maybe/fast");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->body, "inline");
  gate.Open();
  auto slow = waiting.Read();
  ASSERT_TRUE(slow.has_value());
  EXPECT_EQ(slow->body, "deferred");
}

}  // namespace
}  // namespace pipy::http

namespace pipy::http {
namespace {

// Two buffers alternate while a long stream is sent: every byte arrives once, in order,
// with and without a known length.
TEST_F(ServerTest, LongStreamsArriveIntactInOrder) {
  auto make_stream = [](bool known_length) {
    constexpr std::size_t kTotal = 5 * 1024 * 1024 + 123;
    auto sent = std::make_shared<std::size_t>(0);
    StreamBody body;
    if (known_length) {
      body.length = kTotal;
    }
    body.read = [sent](char* buf, std::size_t n) -> Result<std::size_t> {
      std::size_t take = std::min<std::size_t>({n, kTotal - *sent, 100'000});
      for (std::size_t i = 0; i < take; ++i) {
        buf[i] = static_cast<char>(((*sent + i) * 2654435761u) >> 24);
      }
      *sent += take;
      return take;
    };
    Response response;
    response.body = std::move(body);
    return response;
  };
  router_.Add("GET", "/long/{kind}", Opts("long"), [&](Request& request) {
    return make_stream(request.param("kind") == "sized");
  });
  StartServer();
  std::string expected(5 * 1024 * 1024 + 123, '\0');
  for (std::size_t i = 0; i < expected.size(); ++i) {
    expected[i] = static_cast<char>((i * 2654435761u) >> 24);
  }
  for (const char* kind : {"sized", "chunked"}) {
    Conn c(port_);
    auto r = c.Get(std::string("/long/") + kind);
    ASSERT_TRUE(r.has_value()) << kind;
    EXPECT_EQ(r->status, 200);
    ASSERT_EQ(r->body.size(), expected.size()) << kind;
    EXPECT_TRUE(r->body == expected) << kind << ": bytes differ";
  }
}

}  // namespace
}  // namespace pipy::http
