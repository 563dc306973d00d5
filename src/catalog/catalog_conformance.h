// The one test suite every Catalog implementation must pass (SQLite now, PostgreSQL later).
// An implementation's test file instantiates it:
//
//   INSTANTIATE_TEST_SUITE_P(
//       Postgres, CatalogConformanceTest,
//       ::testing::Values(CatalogConformanceParam{"postgres", MakeFreshPostgresCatalog}),
//       CatalogConformanceName);
//
// and links the `catalog_conformance` CMake target.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <ostream>
#include <string>

#include "catalog/catalog.h"

namespace pipy::catalog {

struct CatalogConformanceParam {
  std::string name;  // the instantiation's name in test output: letters, digits, '_'
  // Returns a fresh, empty catalog for one test; nullptr (after ADD_FAILURE) when it cannot.
  std::function<std::unique_ptr<Catalog>()> make_catalog;
};

// Prints the parameter's name in gtest messages instead of its bytes.
inline void PrintTo(const CatalogConformanceParam& param, std::ostream* os) { *os << param.name; }

class CatalogConformanceTest : public ::testing::TestWithParam<CatalogConformanceParam> {
 protected:
  void SetUp() override;

  std::unique_ptr<Catalog> catalog_;
};

// Names instantiations after CatalogConformanceParam::name.
std::string CatalogConformanceName(const ::testing::TestParamInfo<CatalogConformanceParam>& info);

// A complete wheel record for tests: project `project`, version `version`, a filename built
// from both, and a sha256 derived from `content_tag` (different tags, different hashes).
FileRecord TestFile(const std::string& project, const std::string& version,
                    const std::string& content_tag = "a");

}  // namespace pipy::catalog
