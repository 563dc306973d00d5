// The one test suite every BlobStore implementation must pass (like the Docker registry's
// storage driver testsuites). An implementation's test file instantiates it:
//
//   INSTANTIATE_TEST_SUITE_P(
//       S3, BlobStoreConformanceTest,
//       ::testing::Values(BlobStoreConformanceParam{"s3", [] { return MakeFreshS3Store(); }}),
//       BlobStoreConformanceName);
//
// and links the `storage_conformance` CMake target.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <ostream>
#include <string>

#include "storage/blob_store.h"

namespace pipy::storage {

struct BlobStoreConformanceParam {
  std::string name;  // the instantiation's name in test output: letters, digits, '_'
  // Returns a fresh, empty store for one test; nullptr (after ADD_FAILURE) when it cannot.
  std::function<std::unique_ptr<BlobStore>()> make_store;
};

// Prints the parameter's name in gtest messages instead of its bytes.
inline void PrintTo(const BlobStoreConformanceParam& param, std::ostream* os) { *os << param.name; }

class BlobStoreConformanceTest : public ::testing::TestWithParam<BlobStoreConformanceParam> {
 protected:
  void SetUp() override;

  std::unique_ptr<BlobStore> store_;
};

// Names instantiations after BlobStoreConformanceParam::name.
std::string BlobStoreConformanceName(
    const ::testing::TestParamInfo<BlobStoreConformanceParam>& info);

// Lowercase hex sha256 of `data`, computed independently of any store.
std::string Sha256HexForTest(std::string_view data);

}  // namespace pipy::storage
