// The pipy subcommands. Each returns the process exit code; errors go to stderr.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "config/config.h"
#include "core/status.h"
#include "storage/blob_store.h"

namespace pipy::cli {

// The backends a command works on, opened from the configuration.
struct Repository {
  std::unique_ptr<storage::BlobStore> blobs;
  std::unique_ptr<catalog::Catalog> catalog;
};

// Creates the data folder and opens the configured blob store and catalog; errors name the
// backend that failed.
Result<Repository> OpenRepository(const config::Config& config);

int Serve(const config::Config& config);
int TokenCreate(const config::Config& config, const std::string& name,
                const std::vector<std::string>& scopes);
int TokenList(const config::Config& config);
int TokenRevoke(const config::Config& config, const std::string& name);
int Check(const config::Config& config);
int Gc(const config::Config& config, std::chrono::seconds min_age);

}  // namespace pipy::cli
