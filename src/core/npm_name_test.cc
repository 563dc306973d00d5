#include "core/npm_name.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace pipy::npm_name {
namespace {

// The message of the refusal of `name`, or "" (plus a test failure) when it is accepted.
std::string RefusalOf(std::string_view name) {
  Status s = Validate(name);
  EXPECT_FALSE(s.ok()) << "'" << name << "' should be refused";
  if (s.ok()) {
    return "";
  }
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << name;
  EXPECT_NE(s.message().find("invalid npm package name"), std::string::npos) << s.message();
  return s.message();
}

// Expects `name` to be refused with a message containing `rule`.
void ExpectRefused(std::string_view name, std::string_view rule) {
  std::string message = RefusalOf(name);
  EXPECT_NE(message.find(rule), std::string::npos)
      << "'" << name << "': got '" << message << "', expected it to mention '" << rule << "'";
}

TEST(NpmNameTest, AcceptsTheNamesNpmAcceptsForNewPackages) {
  // validate-npm-package-name's own "validForNewPackages: true" cases.
  for (const char* name : {
           "validate-npm-package-name",
           "some-package",
           "example.com",
           "under_score",
           "period.js",
           "123numeric",
           "@npm/thingy",
           "@user/node_modules",  // the exclusions and core names apply to unscoped names only
           "@user/http",
           "@user/-package",
           "a",
           "0",
           "x-",
           "a.b_c-d",
           "@acme/log",
           "@a/b",
           "@acme-corp.internal/log_2.x",
           "httpx",  // core names match whole names only
           "fs-extra",
           "node-test",
       }) {
    Status s = Validate(name);
    EXPECT_TRUE(s.ok()) << name << ": " << s.ToString();
  }
}

TEST(NpmNameTest, EmptyIsRefused) { ExpectRefused("", "name is empty"); }

TEST(NpmNameTest, LengthIsCappedAt214IncludingTheScope) {
  const std::string at_cap(kMaxNameLength, 'a');
  ASSERT_EQ(at_cap.size(), 214u);
  EXPECT_TRUE(Validate(at_cap).ok());
  ExpectRefused(at_cap + "a", "longer than 214 characters");

  // The scope counts: "@s/" is 3 characters of the 214.
  const std::string scoped_at_cap = "@s/" + std::string(kMaxNameLength - 3, 'b');
  ASSERT_EQ(scoped_at_cap.size(), 214u);
  EXPECT_TRUE(Validate(scoped_at_cap).ok());
  ExpectRefused(scoped_at_cap + "b", "longer than 214 characters");

  // The upstream test's long name: 215 characters refused, 214 accepted.
  const std::string long_name =
      "ifyouwanttogetthesumoftwonumberswherethosetwonumbersarechosenbyfindingthelargestoftwoout"
      "ofthreenumbersandsquaringthemwhichismultiplyingthembyitselfthenyoushouldinputthreenumbe"
      "rsintothisfunctionanditwilldothatforyou";
  ASSERT_EQ(long_name.size(), 214u);
  EXPECT_TRUE(Validate(long_name).ok());
  ExpectRefused(long_name + "-", "longer than 214 characters");
  // The message does not echo all of a long name.
  EXPECT_LT(RefusalOf(std::string(100000, 'a')).size(), 200u);
}

TEST(NpmNameTest, LeadingPeriodUnderscoreOrHyphenIsRefused) {
  ExpectRefused(".start-with-period", "cannot start with a period");
  ExpectRefused("_start-with-underscore", "cannot start with an underscore");
  ExpectRefused("-start-with-hyphen", "cannot start with a hyphen");
  ExpectRefused("--start-with-double-hyphen", "cannot start with a hyphen");
  ExpectRefused(".", "cannot start with a period");
  ExpectRefused("..", "cannot start with a period");
}

TEST(NpmNameTest, SurroundingWhitespaceIsRefused) {
  ExpectRefused(" leading-space", "leading or trailing spaces");
  ExpectRefused("trailing-space ", "leading or trailing spaces");
  ExpectRefused("\tx", "leading or trailing spaces");
  ExpectRefused("x\n", "leading or trailing spaces");
  ExpectRefused(" @scope/x", "leading or trailing spaces");
  // Inside the name a space is not URL-safe.
  ExpectRefused("a b", "byte 0x20");
}

TEST(NpmNameTest, CapitalLettersAreRefused) {
  ExpectRefused("CAPITAL-LETTERS", "capital letters");
  ExpectRefused("jsonStream", "capital letters");
  ExpectRefused("@Acme/log", "capital letters");
  ExpectRefused("@acme/Log", "capital letters");
  ExpectRefused("HTTP", "capital letters");
}

TEST(NpmNameTest, ExcludedNamesAreRefused) {
  ExpectRefused("node_modules", "node_modules is not a valid package name");
  ExpectRefused("favicon.ico", "favicon.ico is not a valid package name");
}

TEST(NpmNameTest, NodeCoreModuleNamesAreRefused) {
  for (const char* name : {"http", "fs", "process", "events", "util", "crypto", "http2", "zlib",
                           "worker_threads", "string_decoder", "sys", "v8", "wasi", "punycode"}) {
    ExpectRefused(name, std::string(name) + " is a Node core module name");
  }
}

TEST(NpmNameTest, SpecialCharactersAreRefused) {
  ExpectRefused("crazy!", "special characters");
  ExpectRefused("@npm-zors/money!time.js", "special characters");
  // Anywhere in the name, the scope included (upstream checks only the basename).
  ExpectRefused("@sc*pe/x", "special characters");
  for (const char* name : {"a~b", "a'b", "a(b", "a)b", "a*b", "~a"}) {
    ExpectRefused(name, "special characters");
  }
}

TEST(NpmNameTest, OnlyUrlSafeCharactersAreAllowed) {
  ExpectRefused("contain:colons", "contains ':'");
  ExpectRefused("a%2fb", "contains '%'");
  ExpectRefused("\xc3\xbcnicode", "byte 0xc3");  // "ünicode"
  ExpectRefused("caf\xc3\xa9", "byte 0xc3");
  ExpectRefused("a+b", "contains '+'");
  ExpectRefused("a@b", "contains '@'");
  ExpectRefused("a#b", "contains '#'");
  ExpectRefused("a?b", "contains '?'");
  ExpectRefused("a\\b", "contains '\\'");
  ExpectRefused("a\"b", "contains '\"'");
  ExpectRefused(std::string("a\0b", 3), "byte 0x00");
  ExpectRefused("@scope/a b", "basename contains byte 0x20");
  ExpectRefused("@sc:pe/x", "scope contains ':'");
  ExpectRefused("@\xc3\xbc/x", "scope contains byte 0xc3");
}

TEST(NpmNameTest, SlashOnlySeparatesAScope) {
  ExpectRefused("a/b", "separator of a scoped name");
  ExpectRefused("s/l/a/s/h/e/s", "separator of a scoped name");
  ExpectRefused("@scope/a/b", "separator of a scoped name");
  ExpectRefused("@scope/../x", "basename cannot start with a period");
  // An encoded slash is not a slash: the HTTP layer decodes "%2f" before validating.
  ExpectRefused("@scope%2fx", "must be a scoped name '@scope/name'");
  ExpectRefused("@scope", "must be a scoped name '@scope/name'");
  ExpectRefused("@", "must be a scoped name '@scope/name'");
}

TEST(NpmNameTest, ScopeAndBasenameRules) {
  ExpectRefused("@/x", "scope is empty");
  ExpectRefused("@/", "scope is empty");
  ExpectRefused("@scope/", "basename is empty");
  ExpectRefused("@./x", "scope cannot be '.'");
  ExpectRefused("@../x", "scope cannot be '..'");
  ExpectRefused("@npm/.", "basename cannot be '.'");
  ExpectRefused("@npm/..", "basename cannot be '..'");
  ExpectRefused("@npm/.package", "basename cannot start with a period");
  ExpectRefused("@.npm/x", "scope cannot start with a period");
  ExpectRefused("@_npm/x", "scope cannot start with an underscore");
  ExpectRefused("@npm/_package", "basename cannot start with an underscore");
}

TEST(NpmNameTest, SplitSeparatesScopeAndBasename) {
  Parts scoped = Split("@acme/log");
  EXPECT_EQ(scoped.scope, "acme");
  EXPECT_EQ(scoped.basename, "log");
  Parts unscoped = Split("left-pad");
  EXPECT_EQ(unscoped.scope, "");
  EXPECT_EQ(unscoped.basename, "left-pad");
  Parts dotted = Split("@a.b/c.d");
  EXPECT_EQ(dotted.scope, "a.b");
  EXPECT_EQ(dotted.basename, "c.d");
  // The views point into the argument.
  const std::string name = "@acme/log";
  Parts parts = Split(name);
  EXPECT_EQ(parts.scope.data(), name.data() + 1);
  EXPECT_EQ(parts.basename.data(), name.data() + 6);
  // Invalid input gives some answer without reading out of bounds.
  EXPECT_EQ(Split("").basename, "");
  EXPECT_EQ(Split("@").basename, "@");
  EXPECT_EQ(Split("@/").scope, "");
  EXPECT_EQ(Split("@/").basename, "");
}

TEST(NpmNameTest, TarballFilenameUsesTheBasename) {
  EXPECT_EQ(TarballFilename("@acme/log", "1.0.0"), "log-1.0.0.tgz");
  EXPECT_EQ(TarballFilename("left-pad", "1.3.0"), "left-pad-1.3.0.tgz");
  EXPECT_EQ(TarballFilename("@acme/log", "2.0.0-rc.1"), "log-2.0.0-rc.1.tgz");
}

}  // namespace
}  // namespace pipy::npm_name

namespace pipy::npm_name {
namespace {

TEST(NpmNameExistingTest, OldPackagesOfThePublicRegistryAreNames) {
  for (std::string_view name : {"string_decoder", "events", "punycode", "JSONStream",
                                "@Azure/Core", "crazy!(name)*", "node-gyp", "@types/node",
                                "-leading-hyphen"}) {
    EXPECT_TRUE(ValidateExisting(name).ok()) << name << ": " << ValidateExisting(name).message();
  }
  // What may be asked of the upstream: still one URL path segment per part.
  for (std::string_view name : std::initializer_list<std::string_view>{
           "", ".hidden", "_private", "node_modules", "favicon.ico",
                                "a/b", "@scope/../x", "@scope/..", "@/x", "@scope/", "a b",
                                "a%2fb", "caf\xc3\xa9", std::string_view("a\0b", 3)}) {
    EXPECT_FALSE(ValidateExisting(name).ok()) << name;
  }
  EXPECT_FALSE(ValidateExisting(std::string(215, 'a')).ok());
  // Publishing keeps the rule for new packages.
  EXPECT_FALSE(Validate("string_decoder").ok());
  EXPECT_FALSE(Validate("JSONStream").ok());
}

}  // namespace
}  // namespace pipy::npm_name
