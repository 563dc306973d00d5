// Test support: builds real wheels and sdists (zip / tar.gz via libarchive) in a folder,
// so tests of the upload path exercise the same archive reading as production.
#pragma once

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "testing/temp_dir.h"  // TempDir, which the users of this header make wheels in

namespace pipy::testing {

struct ArchiveMember {
  std::string path;
  std::string data;
};

// Writes `members` into a zip (`zip` true) or a gzip-compressed tar at `path`.
void WriteArchive(const std::filesystem::path& path, bool zip,
                  const std::vector<ArchiveMember>& members);

// Core metadata text (Metadata-Version 2.1) for `name` and `version`, with a README body.
std::string CoreMetadataText(const std::string& name, const std::string& version,
                             const std::string& extra_headers = "",
                             const std::string& readme = "# Hello\n");

// Writes "<dir>/<escaped name>-<version>-py3-none-any.whl" holding a module and a
// .dist-info/METADATA (from `metadata`, default: CoreMetadataText(name, version)) and returns
// its path. `salt` changes the module's bytes, to make a different file with the same name.
std::filesystem::path MakeWheel(const std::filesystem::path& dir, const std::string& name,
                                const std::string& version, const std::string& metadata = "",
                                const std::string& salt = "");

// Writes "<dir>/<escaped name>-<version>.tar.gz" with "<top>/PKG-INFO" and returns its path.
std::filesystem::path MakeSdist(const std::filesystem::path& dir, const std::string& name,
                                const std::string& version);

// The PEP 427 / PEP 625 escaped form of a project name: runs of -_. become '_'.
std::string EscapeDistName(const std::string& name);

// Reads a whole file.
std::string ReadFile(const std::filesystem::path& path);

}  // namespace pipy::testing
