#include "http/access_log.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <thread>
#include <vector>

namespace pipy::http {
namespace {

class AccessLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char name[] = "/tmp/pipy-access-log-XXXXXX";
    fd_ = ::mkstemp(name);
    ASSERT_GE(fd_, 0);
    path_ = name;
  }
  void TearDown() override {
    ::close(fd_);
    ::unlink(path_.c_str());
  }
  std::vector<std::string> Lines() const {
    std::ifstream in(path_);
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) {
      lines.push_back(line);
    }
    return lines;
  }
  int fd_ = -1;
  std::string path_;
};

TEST_F(AccessLogTest, LinesAreBufferedUntilFlushAndCarryAUtcTimestamp) {
  AccessLog log(fd_);
  log.Write("127.0.0.1 \"GET /simple/\" 200 12 0.100ms simple_root");
  EXPECT_TRUE(Lines().empty()) << "written before a flush: not buffered";
  log.Flush();
  std::vector<std::string> lines = Lines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_TRUE(std::regex_match(
      lines[0], std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z 127\.0\.0\.1 "GET /simple/" 200 12 0\.100ms simple_root)")))
      << lines[0];
}

TEST_F(AccessLogTest, ManyThreadsNeitherLoseNorSplitLines) {
  constexpr int kThreads = 4;
  constexpr int kLines = 5000;  // several buffers' worth per thread
  {
    AccessLog log(fd_);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&log, t] {
        for (int i = 0; i < kLines; ++i) {
          log.Write("thread " + std::to_string(t) + " line " + std::to_string(i) +
                    " padding-padding-padding-padding");
        }
      });
    }
    for (auto& thread : threads) {
      thread.join();
    }
  }  // the destructor flushes
  std::vector<std::string> lines = Lines();
  ASSERT_EQ(lines.size(), static_cast<std::size_t>(kThreads * kLines));
  std::vector<int> next(kThreads, 0);
  std::regex shape(R"(\S+Z thread (\d) line (\d+) padding-padding-padding-padding)");
  for (const std::string& line : lines) {
    std::smatch m;
    ASSERT_TRUE(std::regex_match(line, m, shape)) << "split or mixed line: " << line;
    int t = std::stoi(m[1]);
    EXPECT_EQ(std::stoi(m[2]), next[t]++) << "lines of one thread out of order";
  }
}

TEST(AccessLogEscape, QuotesControlAndHighBytesAreEscaped) {
  std::string out;
  AppendLogEscaped("/simple/a\"b\\c\r\n1.2.3.4 \"GET /x\" 200\x1b[31m\xff ok", out);
  EXPECT_EQ(out, "/simple/a\\x22b\\x5cc\\x0d\\x0a1.2.3.4 \\x22GET /x\\x22 200\\x1b[31m\\xff ok");
  EXPECT_EQ(out.find('"'), std::string::npos);
  EXPECT_EQ(out.find('\n'), std::string::npos);
}

}  // namespace
}  // namespace pipy::http
