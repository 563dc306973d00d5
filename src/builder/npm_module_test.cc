#include "builder/npm_module.h"

#include <gtest/gtest.h>

namespace pipy::builder {
namespace {

using Map = std::map<std::string, std::string>;

TEST(NpmModuleTest, ReadsNameVersionDependenciesAndTestCommand) {
  auto module = ParseNpmModule(R"({
  "name": "@acme/metrics",
  "version": "1.2.3",
  "dependencies": {"@acme/logger": "^1.0.0", "lodash": "4.x"},
  "peerDependencies": {"react": ">=18"},
  "optionalDependencies": {"fsevents": "*"},
  "devDependencies": {"@acme/testkit": "workspace:*", "mocha": "^10"},
  "scripts": {"test": "mocha", "build": "tsc"},
  "pipy": {"test": "npm run build && npm test -- --reporter dot"}
})");
  ASSERT_TRUE(module.has_value()) << module.error().ToString();
  EXPECT_FALSE(module->is_private);
  EXPECT_EQ(module->name, "@acme/metrics");
  EXPECT_EQ(module->version, "1.2.3");
  EXPECT_EQ(
      module->dependencies,
      (Map{{"@acme/logger", "^1.0.0"}, {"fsevents", "*"}, {"lodash", "4.x"}, {"react", ">=18"}}));
  EXPECT_EQ(module->dev_dependencies, (Map{{"@acme/testkit", "workspace:*"}, {"mocha", "^10"}}));
  EXPECT_TRUE(module->has_test_script);
  EXPECT_EQ(module->test_command, "npm run build && npm test -- --reporter dot");
}

TEST(NpmModuleTest, TestScriptDefaultsToNpmTest) {
  auto module = ParseNpmModule(R"({"name": "log", "version": "1.0.0",
                                   "scripts": {"test": "node --test"}})");
  ASSERT_TRUE(module.has_value()) << module.error().ToString();
  EXPECT_TRUE(module->has_test_script);
  EXPECT_EQ(module->test_command, kDefaultNpmTestCommand);
  EXPECT_TRUE(module->dependencies.empty());
  EXPECT_TRUE(module->dev_dependencies.empty());
}

TEST(NpmModuleTest, PipyTestWorksWithoutScripts) {
  auto module =
      ParseNpmModule(R"({"name": "log", "version": "1.0.0", "pipy": {"test": "node t.js"}})");
  ASSERT_TRUE(module.has_value()) << module.error().ToString();
  EXPECT_FALSE(module->has_test_script);
  EXPECT_EQ(module->test_command, "node t.js");
}

TEST(NpmModuleTest, NoTestScriptLeavesTheCommandEmpty) {
  // Not a parse error: the module exists, and its build record says why it fails.
  for (const char* text : {
           R"({"name": "log", "version": "1.0.0"})",
           R"({"name": "log", "version": "1.0.0", "scripts": {"build": "tsc"}})",
           R"({"name": "log", "version": "1.0.0", "scripts": {"test": ""}})",  // npm: missing
           R"({"name": "log", "version": "1.0.0", "pipy": {}})",
       }) {
    auto module = ParseNpmModule(text);
    ASSERT_TRUE(module.has_value()) << text << ": " << module.error().ToString();
    EXPECT_FALSE(module->has_test_script) << text;
    EXPECT_EQ(module->test_command, "") << text;
  }
  EXPECT_EQ(kNoTestScriptMessage,
            "package.json has no test script: add scripts.test or \"pipy\": {\"test\": \"...\"}");
}

TEST(NpmModuleTest, PrivatePackageIsNotAModule) {
  // A workspace root often has neither name nor version; it must not fail the commit.
  auto root = ParseNpmModule(R"({"private": true, "workspaces": ["packages/*"]})");
  ASSERT_TRUE(root.has_value()) << root.error().ToString();
  EXPECT_TRUE(root->is_private);
  EXPECT_EQ(root->name, "");

  auto named = ParseNpmModule(R"({"name": "Tools", "version": "x", "private": true})");
  ASSERT_TRUE(named.has_value()) << named.error().ToString();
  EXPECT_TRUE(named->is_private);
  EXPECT_EQ(named->name, "Tools");

  auto public_one = ParseNpmModule(R"({"name": "log", "version": "1.0.0", "private": false})");
  ASSERT_TRUE(public_one.has_value()) << public_one.error().ToString();
  EXPECT_FALSE(public_one->is_private);
}

TEST(NpmModuleTest, VersionIsStoredAsItsKey) {
  auto module = ParseNpmModule(R"({"name": "log", "version": "2.0.0-rc.1+build.7"})");
  ASSERT_TRUE(module.has_value()) << module.error().ToString();
  EXPECT_EQ(module->version, "2.0.0-rc.1");
}

TEST(NpmModuleTest, DependencyTablesMergeAsNpmDoes) {
  // optionalDependencies override dependencies; peerDependencies only add new names.
  auto module = ParseNpmModule(R"({"name": "log", "version": "1.0.0",
      "dependencies": {"a": "1", "b": "1"},
      "optionalDependencies": {"b": "2"},
      "peerDependencies": {"a": "3", "c": "3"},
      "devDependencies": {"a": "4"}})");
  ASSERT_TRUE(module.has_value()) << module.error().ToString();
  EXPECT_EQ(module->dependencies, (Map{{"a", "1"}, {"b", "2"}, {"c", "3"}}));
  EXPECT_EQ(module->dev_dependencies, (Map{{"a", "4"}}));
}

TEST(NpmModuleTest, NullDependencyTableIsEmpty) {
  auto module = ParseNpmModule(R"({"name": "log", "version": "1.0.0", "dependencies": null})");
  ASSERT_TRUE(module.has_value()) << module.error().ToString();
  EXPECT_TRUE(module->dependencies.empty());
}

TEST(NpmModuleTest, LeadingByteOrderMarkIsIgnored) {
  auto module = ParseNpmModule("\xEF\xBB\xBF{\"name\": \"log\", \"version\": \"1.0.0\"}");
  ASSERT_TRUE(module.has_value()) << module.error().ToString();
  EXPECT_EQ(module->name, "log");
}

TEST(NpmModuleTest, MalformedFilesFailWithAMessageNamingTheField) {
  struct Case {
    std::string text;
    std::string needle;
  };
  const Case cases[] = {
      {"{\n  \"name\": \"log\",\n  \"version\": }", "not valid JSON: line 3"},
      {"{\"name\": \"log\", \"version\": \"1.0.0\",}", "not valid JSON: line 1"},
      {"{\"name\": \"log\"} trailing", "not valid JSON"},
      {"", "not valid JSON"},
      {"[1, 2]", "must be a JSON object"},
      {R"({"name": "log", "version": "1.0.0", "private": "true"})", "\"private\" must be true"},
      {R"({"version": "1.0.0"})", "\"name\" is missing"},
      {R"({"name": 7, "version": "1.0.0"})", "\"name\" must be a string"},
      {R"({"name": "Log", "version": "1.0.0"})", "\"name\" \"Log\" is not a valid npm package"},
      {R"({"name": "@acme/", "version": "1.0.0"})", "is not a valid npm package name"},
      {R"({"name": "log"})", "\"version\" is missing"},
      {R"({"name": "log", "version": 1})", "\"version\" must be a string"},
      {R"({"name": "log", "version": "1.0"})", "\"version\" \"1.0\" is not a valid SemVer"},
      {R"({"name": "log", "version": "v1.0.0"})", "is not a valid SemVer"},
      {R"({"name": "log", "version": "1.0.0", "dependencies": ["a"]})",
       "\"dependencies\" must be an object"},
      {R"({"name": "log", "version": "1.0.0", "peerDependencies": {"a": 1}})",
       "\"peerDependencies\" entry \"a\" must be a string"},
      {R"({"name": "log", "version": "1.0.0", "optionalDependencies": "a"})",
       "\"optionalDependencies\" must be an object"},
      {R"({"name": "log", "version": "1.0.0", "devDependencies": {"a": null}})",
       "\"devDependencies\" entry \"a\""},
      {R"({"name": "log", "version": "1.0.0", "scripts": "mocha"})",
       "\"scripts\" must be an object"},
      {R"({"name": "log", "version": "1.0.0", "scripts": {"test": true}})",
       "\"scripts\".\"test\" must be a string"},
      {R"({"name": "log", "version": "1.0.0", "pipy": "npm test"})", "\"pipy\" must be an object"},
      {R"({"name": "log", "version": "1.0.0", "pipy": {"test": ""}})",
       "\"pipy\".\"test\" must be a non-empty string"},
      {R"({"name": "log", "version": "1.0.0", "pipy": {"test": ["npm", "test"]}})",
       "\"pipy\".\"test\" must be a non-empty string"},
  };
  for (const Case& c : cases) {
    auto module = ParseNpmModule(c.text);
    ASSERT_FALSE(module.has_value()) << c.text;
    EXPECT_EQ(module.error().code(), StatusCode::kInvalidArgument) << c.text;
    EXPECT_NE(module.error().message().find(c.needle), std::string::npos)
        << c.text << " -> " << module.error().message();
  }
}

}  // namespace
}  // namespace pipy::builder
