#include "builder/dependencies.h"

#include <gtest/gtest.h>

#include "builder/sandbox.h"

namespace pipy::builder {
namespace {

TEST(DependenciesTest, PinsComeFromPipsInstallationReport) {
  // The shape pip 23 writes (trimmed): https://pip.pypa.io/en/stable/reference/installation-report/
  auto pins = PinsFromInstallReport(R"({"version": "1", "pip_version": "23.0.1", "install": [
    {"download_info": {"url": "http://127.0.0.1:8080/files/acme_core-2.0-py3-none-any.whl",
      "archive_info": {"hash": "sha256=00"}}, "is_direct": false, "requested": true,
     "metadata": {"metadata_version": "2.1", "name": "acme-core", "version": "2.0"}},
    {"is_direct": false, "requested": false,
     "metadata": {"name": "six", "version": "1.16.0+local"}}], "environment": {}})");
  ASSERT_TRUE(pins) << pins.error().ToString();
  EXPECT_EQ(*pins, (std::vector<std::string>{"acme-core==2.0", "six==1.16.0+local"}));
  auto none = PinsFromInstallReport(R"({"version": "1", "install": []})");
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
}

TEST(DependenciesTest, UnreadableReportsAndDirectUrlsAreRefused) {
  EXPECT_FALSE(PinsFromInstallReport(""));
  EXPECT_FALSE(PinsFromInstallReport("[]"));
  EXPECT_FALSE(PinsFromInstallReport(R"({"install": [{"metadata": {"name": "x"}}]})"));
  auto direct = PinsFromInstallReport(
      R"({"install": [{"is_direct": true, "metadata": {"name": "evil", "version": "1"}}]})");
  ASSERT_FALSE(direct);
  EXPECT_NE(direct.error().message().find("\"evil\" is a direct URL"), std::string::npos);
}

TEST(DependenciesTest, TheMissingProjectIsReadFromPipsOutput) {
  EXPECT_EQ(MissingDistribution("ERROR: Could not find a version that satisfies the requirement "
                                "evil-dep (from versions: none)\nERROR: No matching "
                                "distribution found for evil-dep\n"),
            "evil-dep");
  EXPECT_EQ(MissingDistribution("ERROR: No matching distribution found for acme[x]>=2,<3\n"),
            "acme");
  EXPECT_EQ(MissingDistribution("ERROR: Cannot install a and b\n"), "");
}

TEST(DependenciesTest, TheCredentialGoesIntoTheIndexUrl) {
  EXPECT_EQ(IndexUrlWithCredential("http://127.0.0.1:8080/simple/", "pipy_x"),
            "http://__token__:pipy_x@127.0.0.1:8080/simple/");
  EXPECT_EQ(IndexUrlWithCredential("http://[::1]:80/simple/", "s"),
            "http://__token__:s@[::1]:80/simple/");
}

TEST(SandboxTest, HidesThenBindsBackInOrder) {
  SandboxSpec spec;
  spec.hidden_dirs = {"/srv/pipy"};
  spec.hidden_files = {"/dev/null", "/nonexistent/pipy.toml"};  // only existing files
  spec.read_only = {"/srv/pipy/builds/7"};
  spec.writable = {"/srv/pipy/builds/7/wheels"};
  spec.chdir = "/srv/pipy/builds/7";
  std::vector<std::string> argv = SandboxArgv(spec, {"pip", "download"});
  // clang-format off
  std::vector<std::string> expected = {
      "bwrap", "--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts",
      "--die-with-parent", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
      "--tmpfs", "/tmp", "--ro-bind", "/dev/null", "/dev/null",
      "--tmpfs", "/srv/pipy",
      "--ro-bind", "/srv/pipy/builds/7", "/srv/pipy/builds/7",
      "--bind", "/srv/pipy/builds/7/wheels", "/srv/pipy/builds/7/wheels",
      "--chdir", "/srv/pipy/builds/7", "--", "pip", "download"};
  // clang-format on
  EXPECT_EQ(argv, expected);
  spec.network = true;
  argv = SandboxArgv(spec, {"pip"});
  EXPECT_EQ(std::find(argv.begin(), argv.end(), "--unshare-net"), argv.end());
}

TEST(LoopbackHttpsHostTest, OnlyHttpsOnLoopbackIsTrusted) {
  EXPECT_EQ(LoopbackHttpsHost("https://127.0.0.1:8443/simple/"), "127.0.0.1:8443");
  EXPECT_EQ(LoopbackHttpsHost("https://[::1]:8443/npm/"), "[::1]:8443");
  EXPECT_EQ(LoopbackHttpsHost("https://localhost/simple/"), "localhost");
  EXPECT_EQ(LoopbackHttpsHost("http://127.0.0.1:8080/simple/"), "") << "plain HTTP needs nothing";
  EXPECT_EQ(LoopbackHttpsHost("https://pipy.internal:443/simple/"), "");
  EXPECT_EQ(LoopbackHttpsHost("https://127.0.0.1.evil.example/simple/"), "");
  EXPECT_EQ(LoopbackHttpsHost("https://10.0.0.1:8443/simple/"), "");
}

}  // namespace
}  // namespace pipy::builder
