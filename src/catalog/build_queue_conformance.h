// The one test suite every BuildQueue implementation must pass (SQLite, PostgreSQL). An
// implementation's test file instantiates it:
//
//   INSTANTIATE_TEST_SUITE_P(
//       Postgres, BuildQueueConformanceTest,
//       ::testing::Values(BuildQueueConformanceParam{"postgres", MakeFreshPostgresQueue}),
//       BuildQueueConformanceName);
//
// and links the `build_queue_conformance` CMake target.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <ostream>
#include <string>

#include "catalog/build_queue.h"

namespace pipy::catalog {

struct BuildQueueConformanceParam {
  std::string name;  // letters, digits, '_'
  // Returns a fresh, empty queue for one test; nullptr (after ADD_FAILURE) when it cannot.
  std::function<std::unique_ptr<BuildQueue>()> make_queue;
};

inline void PrintTo(const BuildQueueConformanceParam& param, std::ostream* os) {
  *os << param.name;
}

class BuildQueueConformanceTest : public ::testing::TestWithParam<BuildQueueConformanceParam> {
 protected:
  void SetUp() override;

  std::unique_ptr<BuildQueue> queue_;
};

std::string BuildQueueConformanceName(
    const ::testing::TestParamInfo<BuildQueueConformanceParam>& info);

}  // namespace pipy::catalog
