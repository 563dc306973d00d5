// `pipy import`: loads a folder of wheels and sdists (a pypiserver package directory, say)
// through python::PublishDistribution, the one publish path, so imported files get exactly the
// validation of a twine upload (PEP 427 / PEP 625 filenames, metadata agreeing with them,
// archive limits) and are recorded with the importer's name as uploader.
#include <algorithm>
#include <filesystem>
#include <iostream>
#include <string>
#include <system_error>
#include <vector>

#include "auth/principal.h"
#include "cli/commands.h"
#include "core/filename.h"
#include "index/index.h"
#include "python/publish.h"

namespace pipy::cli {

namespace {

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// True for names meant as a distribution: wheels and .tar.gz sdists (invalid ones are then
// refused with the reason), and legacy .zip sdists whose name parses (any other zip is just
// not a distribution).
bool LooksLikeDistribution(const std::string& filename) {
  if (EndsWith(filename, ".whl") || EndsWith(filename, ".tar.gz")) {
    return true;
  }
  return EndsWith(filename, ".zip") && ParseSdistFilename(filename).has_value();
}

// Every regular file under `dir`, in path order (a stable, repeatable import order).
Result<std::vector<std::filesystem::path>> ListFiles(const std::filesystem::path& dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    return NotFound(dir.string() + " is not a folder");
  }
  std::vector<std::filesystem::path> out;
  std::filesystem::recursive_directory_iterator it(dir, ec);
  for (; !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_regular_file(ec)) {
      out.push_back(it->path());
    }
  }
  if (ec) {
    return Unavailable("cannot list " + dir.string() + ": " + ec.message());
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

int Import(const config::Config& config, const std::filesystem::path& dir,
           const std::string& as_name) {
  auto files = ListFiles(dir);
  if (!files) {
    std::cerr << "pipy import: " << files.error().message() << "\n";
    return 2;
  }
  auto repo = OpenRepository(config);
  if (!repo) {
    std::cerr << "pipy import: " << repo.error().message() << "\n";
    return 2;
  }
  index::Index index(*repo->blobs, *repo->catalog);
  auth::Principal importer;
  importer.anonymous = false;
  importer.token_name = as_name;
  importer.scopes = {"admin"};
  importer.address = "cli";  // the audit log's address for pipy subcommands

  std::size_t imported = 0;
  std::size_t present = 0;
  std::size_t refused = 0;
  std::size_t skipped = 0;
  for (const auto& path : *files) {
    const std::string filename = path.filename().string();
    if (!LooksLikeDistribution(filename)) {
      ++skipped;
      std::cout << "skipped " << path.string() << ": not a wheel or sdist\n";
      continue;
    }
    std::error_code ec;
    const std::uintmax_t size = std::filesystem::file_size(path, ec);
    if (!ec && size > config.limits.max_upload_bytes) {
      ++refused;
      std::cout << "refused " << path.string() << ": larger than [limits] max_upload_bytes ("
                << config.limits.max_upload_bytes << " bytes)\n";
      continue;
    }
    python::DistributionUpload upload;
    upload.file = path;
    upload.filename = filename;
    upload.uploader = as_name;
    auto published = python::PublishDistribution(index, importer, upload);
    if (!published) {
      ++refused;
      std::cout << "refused " << path.string() << ": " << published.error().message() << "\n";
      continue;
    }
    if (published->outcome == catalog::AddFileOutcome::kIdenticalExists) {
      ++present;
      std::cout << "already present " << filename << "\n";
      continue;
    }
    ++imported;
    std::cout << "imported " << filename << " (" << published->file.project << " "
              << published->file.version << ")\n";
  }
  std::cout << "import: " << imported << " imported, " << present << " already present, " << refused
            << " refused, " << skipped << " skipped\n";
  return refused == 0 ? 0 : 1;
}

}  // namespace pipy::cli
