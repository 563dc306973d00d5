#include "builder/module.h"

#include <gtest/gtest.h>

namespace pipy::builder {
namespace {

TEST(ModuleConfigTest, ReadsProjectBuildSystemAndTestCommand) {
  auto module = ParseModuleConfig(R"(
[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[project]
name = "Acme.Logger"
version = "1.0.0"
dependencies = ["acme-core>=1", "requests"]

[project.optional-dependencies]
test = ["pytest"]
docs = ["sphinx"]

[tool.pipy]
test = "python3 -m pytest -q tests"
)");
  ASSERT_TRUE(module.has_value()) << module.error().ToString();
  EXPECT_EQ(module->name, "Acme.Logger");
  EXPECT_EQ(module->normalized_name, "acme-logger");
  EXPECT_EQ(module->version, "1.0.0");
  EXPECT_EQ(module->dependencies, (std::vector<std::string>{"acme-core>=1", "requests"}));
  EXPECT_EQ(module->test_dependencies, std::vector<std::string>{"pytest"});
  EXPECT_EQ(module->test_command, "python3 -m pytest -q tests");
  EXPECT_TRUE(NeedsSkipDependencyCheck(*module));
}

TEST(ModuleConfigTest, DefaultsAndVersionNormalization) {
  auto module = ParseModuleConfig("[project]\nname = \"acme_x\"\nversion = \"1.0RC1\"\n");
  ASSERT_TRUE(module.has_value()) << module.error().ToString();
  EXPECT_EQ(module->version, "1.0rc1");
  EXPECT_EQ(module->test_command, kDefaultTestCommand);
  EXPECT_TRUE(module->dependencies.empty());
  EXPECT_FALSE(NeedsSkipDependencyCheck(*module));
}

TEST(ModuleConfigTest, MalformedFilesFailWithAClearMessage) {
  struct Case {
    std::string text;
    std::string needle;
  };
  const Case cases[] = {
      {"[project\nname = 1", "not valid TOML: line 1"},
      {"[tool.x]\na = 1\n", "no [project] table"},
      {"[project]\nversion = \"1.0\"\n", "name is missing"},
      {"[project]\nname = \"-bad-\"\nversion = \"1.0\"\n", "not a valid project name"},
      {"[project]\nname = \"a\"\ndynamic = [\"version\"]\n", "version is missing"},
      {"[project]\nname = \"a\"\nversion = 1\n", "version must be a string"},
      {"[project]\nname = \"a\"\nversion = \"one\"\n", "not a valid PEP 440 version"},
      {"[project]\nname = \"a\"\nversion = \"1\"\ndependencies = \"x\"\n", "list of strings"},
      {"[project]\nname = \"a\"\nversion = \"1\"\n[tool.pipy]\ntest = 3\n", "[tool.pipy] test"},
  };
  for (const Case& c : cases) {
    auto module = ParseModuleConfig(c.text);
    ASSERT_FALSE(module.has_value()) << c.text;
    EXPECT_EQ(module.error().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(module.error().message().find(c.needle), std::string::npos)
        << c.text << " -> " << module.error().message();
  }
}

}  // namespace
}  // namespace pipy::builder
