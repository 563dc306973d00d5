#include "upstream/hijack.h"

#include <gtest/gtest.h>

namespace pipy::upstream {
namespace {

auth::Principal Uploader() {
  auth::Principal p;
  p.anonymous = false;
  p.token_name = "ci";
  p.scopes = {"upload:*"};
  return p;
}

auth::Principal Admin() {
  auth::Principal p = Uploader();
  p.scopes = {"admin"};
  return p;
}

std::function<Result<bool>()> Exists(bool exists, int* calls) {
  return [exists, calls]() -> Result<bool> {
    ++*calls;
    return exists;
  };
}

TEST(HijackTest, RefusesANewProjectWhoseNameExistsUpstream) {
  int calls = 0;
  Status s = DecideNewProject(Uploader(), "requests", {"acme-*"}, Exists(true, &calls));
  EXPECT_EQ(s.code(), StatusCode::kAlreadyExists);
  EXPECT_NE(s.message().find("dependency confusion"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("requests"), std::string::npos);
  EXPECT_EQ(calls, 1);
}

TEST(HijackTest, NpmRefusalsNameTheNpmSettings) {
  int calls = 0;
  Status s = DecideNewProject(Uploader(), "left-pad", {}, Exists(true, &calls), kNpmWords);
  EXPECT_EQ(s.code(), StatusCode::kAlreadyExists);
  EXPECT_NE(s.message().find("package 'left-pad' exists on the upstream (public) registry"),
            std::string::npos)
      << s.message();
  EXPECT_NE(s.message().find("[npm] allow_shadowing"), std::string::npos) << s.message();
  EXPECT_EQ(s.message().find("[upstream]"), std::string::npos) << s.message();
}

TEST(HijackTest, AllowsANameTheUpstreamDoesNotHave) {
  int calls = 0;
  EXPECT_TRUE(DecideNewProject(Uploader(), "acme-logger", {}, Exists(false, &calls)).ok());
  EXPECT_EQ(calls, 1);
}

TEST(HijackTest, AdminMayShadowWithoutAskingTheUpstream) {
  int calls = 0;
  EXPECT_TRUE(DecideNewProject(Admin(), "requests", {}, Exists(true, &calls)).ok());
  EXPECT_EQ(calls, 0);
}

TEST(HijackTest, AllowShadowingGlobsPassOthersAreAsked) {
  int calls = 0;
  EXPECT_TRUE(DecideNewProject(Uploader(), "acme-utils", {"foo", "acme-*"}, Exists(true, &calls))
                  .ok());
  EXPECT_EQ(calls, 0);
  EXPECT_EQ(DecideNewProject(Uploader(), "acmeutils", {"acme-*"}, Exists(true, &calls)).code(),
            StatusCode::kAlreadyExists);
  EXPECT_EQ(calls, 1);
}

TEST(HijackTest, FailsClosedWhenTheUpstreamCannotTell) {
  Status s = DecideNewProject(Uploader(), "requests", {}, []() -> Result<bool> {
    return Status(StatusCode::kDeadlineExceeded, "upstream timed out");
  });
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_NE(s.message().find("upstream timed out"), std::string::npos);
}

}  // namespace
}  // namespace pipy::upstream
