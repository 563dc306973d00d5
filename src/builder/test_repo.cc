#include "builder/test_repo.h"

#include <gtest/gtest.h>
#include <stdio.h>

#include <fstream>

namespace pipy::builder::testing {

TestRepo::TestRepo() {
  Git("init -q -b main");
  Git("config user.email test@example.com");
  Git("config user.name Test");
  Git("config commit.gpgsign false");
}

void TestRepo::Write(const std::string& rel, const std::string& content) {
  std::filesystem::path file = path() / rel;
  std::filesystem::create_directories(file.parent_path());
  std::ofstream(file, std::ios::binary | std::ios::trunc) << content;
}

std::string TestRepo::Git(const std::string& args) {
  std::string command = "git -C '" + path().string() + "' " + args + " 2>&1";
  FILE* pipe = ::popen(command.c_str(), "r");
  std::string out;
  char buf[4096];
  size_t n = 0;
  while ((n = fread(buf, 1, sizeof(buf), pipe)) > 0) {
    out.append(buf, n);
  }
  int status = ::pclose(pipe);
  EXPECT_EQ(status, 0) << command << "\n" << out;
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) {
    out.pop_back();
  }
  return out;
}

std::string TestRepo::Commit(const std::string& message) {
  Git("add -A");
  Git("commit -q -m '" + message + "'");
  return Git("rev-parse HEAD");
}

void TestRepo::WriteModule(const std::string& folder, const std::string& name,
                           const std::string& version, const std::string& extra) {
  Write(folder + "/pyproject.toml", "[project]\nname = \"" + name + "\"\nversion = \"" + version +
                                        "\"\n" + extra);
  Write(folder + "/" + folder + ".py", "VALUE = 1\n");
}

}  // namespace pipy::builder::testing
