// Test helpers for the server's socket tests: a raw client connection and a fixture that
// runs a Server on 127.0.0.1 with a temp spool folder (raw POSIX sockets, so these tests
// do not pay for Beast).
#pragma once

#include "http/server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "testing/temp_dir.h"

namespace pipy::http::testing_util {

RouteOptions Opts(std::string name, std::uint64_t max_body_bytes = 64 * 1024) {
  RouteOptions o;
  o.name = std::move(name);
  o.max_body_bytes = max_body_bytes;
  return o;
}

using namespace std::chrono_literals;
namespace fs = std::filesystem;

struct Reply {
  int status = 0;
  std::string reason;
  std::vector<Header> headers;
  std::string body;
  std::optional<std::string> header(std::string_view name) const {
    for (const Header& h : headers) {
      if (EqualsIgnoreCase(h.name, name)) {
        return h.value;
      }
    }
    return std::nullopt;
  }
};

// Holds a handler (or a stream read) until the test opens it, so a test can order events
// without sleeping: "the handler is running" -> "another client is served" -> "the
// handler finishes". Copies share one gate. A handler gives up after 30 s, so that a test
// that fails before Open() still ends.
class Gate {
 public:
  // From the handler: says it has started, then waits until Open().
  void Pass() const {
    std::unique_lock lock(state_->mu);
    state_->entered = true;
    state_->cv.notify_all();
    state_->cv.wait_for(lock, 30s, [this] { return state_->open; });
  }
  // From the test: waits until a handler is inside Pass(); false after `timeout`.
  bool WaitEntered(std::chrono::milliseconds timeout = 10s) const {
    std::unique_lock lock(state_->mu);
    return state_->cv.wait_for(lock, timeout, [this] { return state_->entered; });
  }
  void Open() const {
    std::lock_guard lock(state_->mu);
    state_->open = true;
    state_->cv.notify_all();
  }

 private:
  struct State {
    std::mutex mu;
    std::condition_variable cv;
    bool entered = false;
    bool open = false;
  };
  std::shared_ptr<State> state_ = std::make_shared<State>();
};

// Opens a gate when the test ends, however it ends.
struct OpenAtExit {
  Gate gate;
  ~OpenAtExit() { gate.Open(); }
};

// A client connection with its own read buffer, so pipelined responses can be split.
class Conn {
 public:
  explicit Conn(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      ADD_FAILURE() << "connect failed";
    }
  }
  ~Conn() { ::close(fd_); }

  void Send(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) {
        return;  // the server may legitimately close early
      }
      data.remove_prefix(static_cast<std::size_t>(n));
    }
  }

  // Reads more bytes; false on close, error or `timeout`.
  bool Fill(std::chrono::milliseconds timeout = 5000ms) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) {
      return false;
    }
    char tmp[65536];
    ssize_t n = ::recv(fd_, tmp, sizeof(tmp), 0);
    if (n <= 0) {
      return false;
    }
    buf_.append(tmp, static_cast<std::size_t>(n));
    return true;
  }

  // True when the server closes the connection within `timeout` (bytes read are dropped).
  bool ClosedWithin(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd_, POLLIN, 0};
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (::poll(&p, 1, static_cast<int>(std::max<long>(1, left.count()))) <= 0) {
        continue;
      }
      char tmp[4096];
      ssize_t n = ::recv(fd_, tmp, sizeof(tmp), 0);
      if (n <= 0) {
        return true;
      }
    }
    return false;
  }

  // Reads one response; `head_request` means no body follows the head.
  std::optional<Reply> Read(bool head_request = false) {
    std::size_t end;
    while ((end = buf_.find("\r\n\r\n")) == std::string::npos) {
      if (!Fill()) {
        return std::nullopt;
      }
    }
    Reply r;
    std::string head = buf_.substr(0, end + 2);
    buf_.erase(0, end + 4);
    std::size_t line_end = head.find("\r\n");
    std::string status_line = head.substr(0, line_end);
    r.status = std::stoi(status_line.substr(9, 3));
    r.reason = status_line.size() > 13 ? status_line.substr(13) : "";
    std::size_t pos = line_end + 2;
    while (pos < head.size()) {
      std::size_t e = head.find("\r\n", pos);
      std::string line = head.substr(pos, e - pos);
      std::size_t colon = line.find(':');
      r.headers.push_back({line.substr(0, colon), line.substr(colon + 2)});
      pos = e + 2;
    }
    if (head_request || r.status == 100) {
      return r;
    }
    if (auto te = r.header("Transfer-Encoding"); te && *te == "chunked") {
      while (true) {
        std::size_t crlf;
        while ((crlf = buf_.find("\r\n")) == std::string::npos) {
          if (!Fill()) {
            return std::nullopt;
          }
        }
        std::size_t size = std::stoul(buf_.substr(0, crlf), nullptr, 16);
        while (buf_.size() < crlf + 2 + size + 2) {
          if (!Fill()) {
            return std::nullopt;
          }
        }
        r.body += buf_.substr(crlf + 2, size);
        buf_.erase(0, crlf + 2 + size + 2);
        if (size == 0) {
          return r;
        }
      }
    }
    std::size_t length = std::stoul(r.header("Content-Length").value_or("0"));
    while (buf_.size() < length) {
      if (!Fill()) {
        return std::nullopt;
      }
    }
    r.body = buf_.substr(0, length);
    buf_.erase(0, length);
    return r;
  }

  std::optional<Reply> Get(const std::string& path) {
    Send("GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n");
    return Read();
  }

  int fd() const { return fd_; }

 private:
  int fd_ = -1;
  std::string buf_;
};

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(dir_ / "spool");
    router_.Add("GET", "/hello/{name}", Opts("hello"), [this](Request& r) {
      ++calls_;
      return TextResponse(200, "hello " + std::string(r.param("name")));
    });
  }

  void TearDown() override { StopServer(); }

  void StartServer(ServerOptions options = {}) {
    options.listen = "127.0.0.1:0";
    if (options.threads == 0) {
      options.threads = 2;
    }
    options.spool_dir = dir_ / "spool";
    options.access_log = false;
    server_ = std::make_unique<Server>(options, router_, metrics_);
    Result<int> port = server_->Start();
    ASSERT_TRUE(port.has_value()) << port.error().ToString();
    port_ = *port;
    thread_ = std::thread([this] { server_->Run(); });
  }

  void StopServer() {
    if (server_) {
      server_->Stop();
      thread_.join();
      server_.reset();
    }
  }

  pipy::testing::TempDir tmp_{"pipy-http-test"};
  const fs::path dir_ = tmp_.path();  // the test's folder; the spool is dir_ / "spool"
  Router router_;
  Metrics metrics_;
  std::unique_ptr<Server> server_;
  std::thread thread_;
  int port_ = 0;
  std::atomic<int> calls_{0};
};

}  // namespace pipy::http::testing_util
