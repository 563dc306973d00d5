#include "npm/paths.h"

#include <gtest/gtest.h>

namespace pipy::npm {
namespace {

using Kind = NpmPath::Kind;

TEST(NpmPathsTest, EveryShapeOfTheLayout) {
  struct Case {
    std::string_view rest;
    Kind kind;
    std::string_view name, version, file, rev;
  };
  for (const Case& c : std::initializer_list<Case>{
           {"log", Kind::kPackument, "log", "", "", ""},
           {"@acme/log", Kind::kPackument, "@acme/log", "", "", ""},
           {"log/1.0.0", Kind::kVersion, "log", "1.0.0", "", ""},
           {"@acme/log/latest", Kind::kVersion, "@acme/log", "latest", "", ""},
           {"log/-/log-1.0.0.tgz", Kind::kTarball, "log", "", "log-1.0.0.tgz", ""},
           {"@acme/log/-/log-1.0.0.tgz", Kind::kTarball, "@acme/log", "", "log-1.0.0.tgz", ""},
           {"log/-rev/1-abc", Kind::kRevision, "log", "", "", "1-abc"},
           {"@acme/log/-/log-1.0.0.tgz/-rev/2-x", Kind::kTarballRevision, "@acme/log", "",
            "log-1.0.0.tgz", "2-x"},
       }) {
    auto parsed = ParseNpmPath(c.rest);
    ASSERT_TRUE(parsed) << c.rest << ": " << parsed.error().ToString();
    EXPECT_EQ(parsed->kind, c.kind) << c.rest;
    EXPECT_EQ(parsed->name, c.name) << c.rest;
    EXPECT_EQ(parsed->version, c.version) << c.rest;
    EXPECT_EQ(parsed->file, c.file) << c.rest;
    EXPECT_EQ(parsed->rev, c.rev) << c.rest;
  }
}

TEST(NpmPathsTest, OtherShapesAreNotFound) {
  for (std::string_view rest : {"", "/", "log/", "@acme", "@acme/", "log//1.0.0", "log/-",
                                "log/-rev", "log/1.0.0/extra", "log/-/a.tgz/extra",
                                "log/-/a.tgz/-rev", "@acme/log/-/a/b/c/d/e"}) {
    auto parsed = ParseNpmPath(rest);
    ASSERT_FALSE(parsed) << rest;
    EXPECT_EQ(parsed.error().code(), StatusCode::kNotFound) << rest;
  }
}

}  // namespace
}  // namespace pipy::npm
