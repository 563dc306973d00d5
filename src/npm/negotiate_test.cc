#include "npm/negotiate.h"

#include <gtest/gtest.h>

namespace pipy::npm {
namespace {

TEST(NpmNegotiateTest, WhatTheClientsSend) {
  // yarn 1, pnpm and npm's publish pre-check (RECIPES.md).
  EXPECT_TRUE(WantsAbbreviated(
      "application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*"));
  EXPECT_TRUE(WantsAbbreviated("application/vnd.npm.install-v1+json"));
  // npm 11's install and view ask for the full document.
  EXPECT_FALSE(WantsAbbreviated("application/json"));
  EXPECT_FALSE(WantsAbbreviated(std::nullopt));
  EXPECT_FALSE(WantsAbbreviated("*/*"));
  EXPECT_FALSE(WantsAbbreviated(""));
}

TEST(NpmNegotiateTest, QValuesDecide) {
  EXPECT_FALSE(WantsAbbreviated("application/vnd.npm.install-v1+json;q=0.5, application/json"));
  EXPECT_TRUE(WantsAbbreviated("application/json;q=0.5, application/vnd.npm.install-v1+json"));
  EXPECT_FALSE(WantsAbbreviated("application/vnd.npm.install-v1+json; q=0"));
  EXPECT_TRUE(WantsAbbreviated("APPLICATION/VND.NPM.INSTALL-V1+JSON ; Q=0.9"));
  // A malformed q counts as 0.
  EXPECT_FALSE(WantsAbbreviated("application/vnd.npm.install-v1+json; q=abc"));
  EXPECT_FALSE(WantsAbbreviated("application/vnd.npm.install-v1+json; q=2"));
}

}  // namespace
}  // namespace pipy::npm
