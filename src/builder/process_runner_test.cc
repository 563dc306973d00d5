#include "builder/process_runner.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "testing/temp_dir.h"

namespace pipy::builder {
namespace {

struct Captured {
  std::string out;
  OutputSink sink() {
    return [this](std::string_view chunk) { out += chunk; };
  }
};

ProcessSpec Shell(const std::string& script) {
  ProcessSpec spec;
  spec.argv = {"/bin/sh", "-c", script};
  spec.env = {"PATH=/usr/bin:/bin"};
  return spec;
}

TEST(PosixProcessRunnerTest, CapturesOutputAndExitStatus) {
  PosixProcessRunner runner;
  Captured c;
  ProcessSpec spec = Shell("echo out; echo err >&2; pwd; echo $FOO; exit 3");
  spec.env.push_back("FOO=bar");
  spec.cwd = "/usr";
  auto result = runner.Run(spec, c.sink());
  ASSERT_TRUE(result.has_value()) << result.error().ToString();
  EXPECT_EQ(result->exit_code, 3);
  EXPECT_FALSE(result->ok());
  EXPECT_EQ(c.out, "out\nerr\n/usr\nbar\n");
  auto ok = runner.Run(Shell("true"), c.sink());
  ASSERT_TRUE(ok.has_value());
  EXPECT_TRUE(ok->ok());
}

TEST(PosixProcessRunnerTest, TheChildGetsOnlyTheGivenEnvironment) {
  // The server's own environment holds secrets (AWS_SECRET_ACCESS_KEY, PIPY_CATALOG_URL).
  setenv("PIPY_TEST_SERVER_SECRET", "do-not-pass", 1);
  PosixProcessRunner runner;
  Captured c;
  ProcessSpec spec;
  spec.argv = {"env"};  // found through the server's PATH, run with spec.env alone
  spec.env = {"PATH=/usr/bin:/bin", "ONLY=this"};
  auto result = runner.Run(spec, c.sink());
  unsetenv("PIPY_TEST_SERVER_SECRET");
  ASSERT_TRUE(result.has_value()) << result.error().ToString();
  EXPECT_TRUE(result->ok());
  EXPECT_EQ(c.out, "PATH=/usr/bin:/bin\nONLY=this\n");
}

TEST(PosixProcessRunnerTest, TimeoutKillsTheWholeProcessGroup) {
  pipy::testing::TempDir tmp("pipy-proc");
  std::string dir = tmp.path().string();
  PosixProcessRunner runner;
  Captured c;
  ProcessSpec spec = Shell("sleep 30 & echo $! > '" + dir + "/child'; echo started; wait");
  spec.timeout = std::chrono::milliseconds(500);
  auto start = std::chrono::steady_clock::now();
  auto result = runner.Run(spec, c.sink());
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(result.has_value());
  EXPECT_TRUE(result->timed_out);
  EXPECT_FALSE(result->ok());
  EXPECT_LT(took, std::chrono::seconds(5));
  EXPECT_EQ(c.out, "started\n");
  int child = 0;
  std::ifstream(dir + "/child") >> child;
  ASSERT_GT(child, 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  // The background sleep was in the group: it is gone (or a zombie reaped by init).
  bool alive = ::kill(child, 0) == 0;
  if (alive) {
    std::ifstream stat("/proc/" + std::to_string(child) + "/stat");
    std::string pid, comm, state;
    stat >> pid >> comm >> state;
    alive = state != "Z";
  }
  EXPECT_FALSE(alive) << "the test's child survived the timeout";
}

TEST(PosixProcessRunnerTest, MemoryLimitStopsAHungryCommand) {
  PosixProcessRunner runner;
  Captured c;
  ProcessSpec spec;
  spec.argv = {"/usr/bin/python3", "-c", "x = bytearray(800 * 1024 * 1024); print('allocated')"};
  spec.env = {"PATH=/usr/bin:/bin"};
  spec.memory_limit = 256ull * 1024 * 1024;
  auto result = runner.Run(spec, c.sink());
  ASSERT_TRUE(result.has_value());
  EXPECT_FALSE(result->ok());
  EXPECT_NE(c.out.find("MemoryError"), std::string::npos) << c.out;
  spec.memory_limit = 0;
  c.out.clear();
  spec.argv = {"/usr/bin/python3", "-c", "x = bytearray(300 * 1024 * 1024); print('allocated')"};
  auto unlimited = runner.Run(spec, c.sink());
  ASSERT_TRUE(unlimited.has_value());
  EXPECT_TRUE(unlimited->ok()) << c.out;
}

TEST(PosixProcessRunnerTest, CancelKillsAndIsReported) {
  PosixProcessRunner runner;
  Captured c;
  std::atomic<bool> cancel{false};
  ProcessSpec spec = Shell("sleep 30");
  spec.cancel = &cancel;
  std::thread canceller([&cancel] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    cancel = true;
  });
  auto result = runner.Run(spec, c.sink());
  canceller.join();
  ASSERT_TRUE(result.has_value());
  EXPECT_TRUE(result->cancelled);
  EXPECT_FALSE(result->timed_out);
}

TEST(PosixProcessRunnerTest, AMissingProgramFailsWithoutHanging) {
  PosixProcessRunner runner;
  Captured c;
  ProcessSpec spec;
  spec.argv = {"/nonexistent/program"};
  auto result = runner.Run(spec, c.sink());
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->exit_code, 127);
  EXPECT_NE(c.out.find("cannot execute"), std::string::npos);
}

}  // namespace
}  // namespace pipy::builder
