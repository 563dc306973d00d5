#include "index/index.h"

#include <algorithm>
#include <chrono>
#include <fstream>
#include <future>

#include "core/filename.h"
#include "core/metadata.h"
#include "core/names.h"
#include "core/sha256.h"
#include "core/specifier.h"
#include "core/strings.h"
#include "core/version.h"
#include "index/distribution.h"

namespace pipy::index {

namespace {

std::int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The parts of a distribution filename that the rest of publishing needs.
struct ParsedFilename {
  std::string project;      // normalized
  Version version;
  bool wheel = false;
  bool zip = false;         // legacy .zip sdist
};

Result<ParsedFilename> ParseDistributionFilename(std::string_view filename) {
  if (filename.size() > 255) {
    return InvalidArgument("filename is too long");
  }
  if (filename.ends_with(".whl")) {
    auto wheel = ParseWheelFilename(filename);
    if (!wheel) {
      return wheel.error();
    }
    return ParsedFilename{wheel->name, wheel->version, true, false};
  }
  auto sdist = ParseSdistFilename(filename);
  if (!sdist) {
    return sdist.error();
  }
  return ParsedFilename{sdist->name, sdist->version, false, sdist->is_zip};
}

struct FileDigest {
  std::string sha256;
  std::uint64_t size = 0;
};

Result<FileDigest> HashFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Internal("cannot open uploaded file");
  }
  Sha256 hasher;
  FileDigest digest;
  std::string buf(256 * 1024, '\0');
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    std::streamsize n = in.gcount();
    if (n <= 0) {
      break;
    }
    hasher.Update(std::string_view(buf.data(), static_cast<std::size_t>(n)));
    digest.size += static_cast<std::uint64_t>(n);
  }
  if (in.bad()) {
    return Internal("cannot read uploaded file");
  }
  digest.sha256 = hasher.HexDigest();
  return digest;
}

// Checks that the metadata inside the archive names the same project and version as the
// filename; `what` is "METADATA" or "PKG-INFO" for the message.
Status CheckMetadataAgrees(const CoreMetadata& metadata, const ParsedFilename& parsed,
                           std::string_view what) {
  if (NormalizeName(metadata.name) != parsed.project) {
    return InvalidArgument(std::string(what) + " names project '" + metadata.name +
                           "' but the filename is for '" + parsed.project + "'");
  }
  auto version = Version::Parse(metadata.version);
  if (!version || *version != parsed.version) {
    return InvalidArgument(std::string(what) + " has version '" + metadata.version +
                           "' but the filename has '" + parsed.version.ToString() + "'");
  }
  if (!metadata.requires_python.empty() && !SpecifierSet::Parse(metadata.requires_python)) {
    return InvalidArgument(std::string(what) + " has an invalid Requires-Python '" +
                           metadata.requires_python + "'");
  }
  return Status::Ok();
}

}  // namespace

Index::Index(storage::BlobStore& blobs, catalog::Catalog& catalog, IndexOptions options)
    : blobs_(blobs), catalog_(catalog), options_(options) {
  // Another node's upload or yank drops that project's pages here within milliseconds; the
  // 250 ms change-sequence check in Revalidate stays as the fallback.
  auto watch = catalog_.WatchChanges([this](std::string_view project) {
    pages_.Invalidate(project);
  });
  if (watch.has_value()) {
    change_watch_ = std::move(watch).value();
  }
}

Result<PublishResult> Index::PublishPython(const auth::Principal& who, const PythonUpload& upload) {
  auto parsed_or = ParseDistributionFilename(upload.filename);
  if (!parsed_or) {
    return InvalidArgument("invalid distribution filename '" + upload.filename +
                           "': " + parsed_or.error().message());
  }
  const ParsedFilename& parsed = *parsed_or;

  if (!upload.declared_name.empty()) {
    if (!IsValidName(upload.declared_name) ||
        NormalizeName(upload.declared_name) != parsed.project) {
      return InvalidArgument("the filename '" + upload.filename + "' is for project '" +
                             parsed.project + "' but the form names '" + upload.declared_name +
                             "'");
    }
  }
  if (!upload.declared_version.empty()) {
    auto declared = Version::Parse(upload.declared_version);
    if (!declared || *declared != parsed.version) {
      return InvalidArgument("the filename '" + upload.filename + "' has version '" +
                             parsed.version.ToString() + "' but the form says '" +
                             upload.declared_version + "'");
    }
  }
  if (!who.CanUpload(parsed.project)) {
    return PermissionDenied("token '" + who.token_name + "' may not upload to project '" +
                            parsed.project + "'");
  }
  if (new_project_check_) {
    PIPY_ASSIGN_OR_RETURN(auto project, catalog_.FindProject(parsed.project));
    if (!project) {
      PIPY_RETURN_IF_ERROR(new_project_check_(who, parsed.project));
    }
  }

  PIPY_ASSIGN_OR_RETURN(FileDigest digest, HashFile(upload.file));
  if (digest.size == 0) {
    return InvalidArgument("the uploaded file is empty");
  }
  if (!upload.declared_sha256.empty() && AsciiLower(upload.declared_sha256) != digest.sha256) {
    return InvalidArgument("sha256_digest does not match the uploaded content");
  }

  // A retry of an upload that already succeeded is answered before any archive work.
  PIPY_ASSIGN_OR_RETURN(auto existing, catalog_.FindFile(upload.filename));
  if (existing) {
    if (existing->sha256 == digest.sha256 && existing->size == digest.size) {
      return PublishResult{catalog::AddFileOutcome::kIdenticalExists, *existing};
    }
    return AlreadyExists("file '" + upload.filename +
                         "' already exists with different content; published files are "
                         "immutable, upload a new version");
  }

  ArchiveLimits limits;
  limits.max_metadata_bytes = options_.max_metadata_bytes;
  limits.max_entries = options_.max_archive_entries;
  std::optional<std::string> metadata_text;
  if (parsed.wheel) {
    PIPY_ASSIGN_OR_RETURN(metadata_text, ReadWheelMetadata(upload.file, limits));
  } else {
    PIPY_ASSIGN_OR_RETURN(metadata_text, ReadSdistPkgInfo(upload.file, parsed.zip, limits));
  }

  catalog::ReleaseMetadata release;
  release.display_name = upload.declared_name.empty() ? parsed.project : upload.declared_name;
  catalog::FileRecord record;
  if (metadata_text) {
    auto metadata = ParseCoreMetadata(*metadata_text);
    std::string_view what = parsed.wheel ? "METADATA" : "PKG-INFO";
    if (!metadata) {
      return InvalidArgument(std::string(what) + " is not valid core metadata: " +
                             metadata.error().message());
    }
    PIPY_RETURN_IF_ERROR(CheckMetadataAgrees(*metadata, parsed, what));
    release.display_name = metadata->name;
    release.summary = metadata->summary;
    release.description = metadata->description;
    release.description_content_type = metadata->description_content_type;
    release.requires_python = metadata->requires_python;
    record.requires_python = metadata->requires_python;
  }

  // Blobs first, row last: a crash in between leaves only an unreferenced blob. The
  // metadata blob is stored on a second thread while the file is: their fsyncs overlap
  // (the file system commits them together), which is most of an upload's latency.
  std::future<Result<storage::BlobInfo>> metadata_blob;
  if (parsed.wheel && metadata_text) {
    metadata_blob = std::async(std::launch::async, [this, &metadata_text] {
      return storage::PutBytes(blobs_, *metadata_text);
    });
  }
  // A disposable temp file is handed over: a local store renames it into place.
  auto stored = upload.file_is_disposable ? blobs_.Adopt(upload.file, digest.sha256)
                                          : storage::PutFile(blobs_, upload.file, digest.sha256);
  if (metadata_blob.valid()) {
    auto metadata = metadata_blob.get();
    if (!metadata) {
      return metadata.error().WithContext("storing the metadata");
    }
    record.metadata_sha256 = metadata->key;
  }
  if (!stored) {
    return stored.error().WithContext("storing the file");
  }

  record.project = parsed.project;
  // PEP 440: "1.0" and "1.0.0" are one version, so they are one release — the one already
  // stored, spelled as it was first published.
  PIPY_ASSIGN_OR_RETURN(record.version, ReleaseVersionFor(parsed.project, parsed.version));
  record.filename = upload.filename;
  record.packagetype = parsed.wheel ? "bdist_wheel" : "sdist";
  record.size = digest.size;
  record.sha256 = digest.sha256;
  record.upload_time_ms = NowMs();
  record.uploader = upload.uploader;
  record.provenance = upload.provenance;
  PIPY_ASSIGN_OR_RETURN(catalog::AddFileOutcome outcome, catalog_.AddFile(record, release));
  pages_.Invalidate(record.project);
  if (outcome == catalog::AddFileOutcome::kIdenticalExists) {
    PIPY_ASSIGN_OR_RETURN(auto row, catalog_.FindFile(upload.filename));
    if (row) {
      record = *row;
    }
  }
  return PublishResult{outcome, record};
}

Result<std::string> Index::ReleaseVersionFor(std::string_view project, const Version& version) {
  PIPY_ASSIGN_OR_RETURN(auto releases, catalog_.ListReleases(project));
  for (const auto& release : releases) {
    auto stored = Version::Parse(release.version);
    if (stored && *stored == version) {
      return release.version;
    }
  }
  return version.ToString();
}

Status Index::SetYanked(const auth::Principal& who, std::string_view project,
                        std::string_view version, bool yanked, std::string_view reason) {
  std::string name = NormalizeName(project);
  if (!IsValidName(project)) {
    return InvalidArgument("invalid project name '" + std::string(project) + "'");
  }
  auto parsed = Version::Parse(version);
  if (!parsed) {
    return InvalidArgument("invalid version '" + std::string(version) + "'");
  }
  if (!who.CanUpload(name)) {
    return PermissionDenied("token '" + who.token_name + "' may not change project '" + name +
                            "'");
  }
  // PEP 440 equality, not spelling: "1.0.0" names the release stored as "1.0".
  PIPY_ASSIGN_OR_RETURN(auto releases, catalog_.ListReleases(name));
  const catalog::ReleaseRecord* release = nullptr;
  for (const auto& candidate : releases) {
    auto candidate_version = Version::Parse(candidate.version);
    if (candidate_version && *candidate_version == *parsed) {
      release = &candidate;
      break;
    }
  }
  if (release == nullptr) {
    return NotFound("project '" + name + "' has no release " + std::string(version));
  }
  PIPY_RETURN_IF_ERROR(catalog_.SetYanked(name, release->version, yanked, reason));
  pages_.Invalidate(name);
  return Status::Ok();
}

Result<std::shared_ptr<const ProjectView>> Index::GetProject(std::string_view project) {
  PIPY_ASSIGN_OR_RETURN(auto record, catalog_.FindProject(project));
  if (!record) {
    return NotFound("no project named '" + std::string(project) + "'");
  }
  auto view = std::make_shared<ProjectView>();
  view->project = *record;
  PIPY_ASSIGN_OR_RETURN(view->releases, catalog_.ListReleases(project));
  PIPY_ASSIGN_OR_RETURN(view->files, catalog_.ListFiles(project));

  // Newest first by PEP 440; stored versions are normalized, so they parse.
  auto newer = [](std::string_view a, std::string_view b) {
    auto va = Version::Parse(a);
    auto vb = Version::Parse(b);
    if (va && vb) {
      return *vb < *va;
    }
    return b < a;
  };
  std::sort(view->releases.begin(), view->releases.end(),
            [&](const auto& a, const auto& b) { return newer(a.version, b.version); });
  std::sort(view->files.begin(), view->files.end(), [&](const auto& a, const auto& b) {
    if (a.version != b.version) {
      return newer(a.version, b.version);
    }
    return a.filename < b.filename;
  });
  return std::shared_ptr<const ProjectView>(std::move(view));
}

Result<std::vector<catalog::ProjectRecord>> Index::ListProjects() {
  return catalog_.ListProjects();
}

Result<catalog::FileRecord> Index::FindFile(std::string_view filename) {
  std::string key(filename);
  {
    std::lock_guard lock(files_mu_);
    if (auto it = files_.find(key); it != files_.end()) {
      return it->second;
    }
  }
  PIPY_ASSIGN_OR_RETURN(auto row, catalog_.FindFile(filename));
  if (!row) {
    return NotFound("no file named '" + key + "'");  // not cached: it may be uploaded later
  }
  std::lock_guard lock(files_mu_);
  if (files_.size() >= kMaxCachedFiles) {
    files_.clear();  // crude bound; a full cache is refilled from the catalog on demand
  }
  files_.emplace(std::move(key), *row);
  return *row;
}

Result<std::unique_ptr<storage::BlobReader>> Index::OpenBlob(std::string_view sha256) {
  return blobs_.Open(sha256);
}

Result<Index::BlobContent> Index::ReadBlobForServing(std::string_view sha256) {
  BlobContent content;
  content.small = small_blobs_.Get(sha256);
  if (content.small) {
    return content;
  }
  PIPY_ASSIGN_OR_RETURN(content.reader, blobs_.Open(sha256));
  if (content.reader->size() > small_blobs_.max_blob_bytes()) {
    return content;
  }
  auto bytes = std::make_shared<std::string>(content.reader->size(), '\0');
  std::size_t done = 0;
  while (done < bytes->size()) {
    PIPY_ASSIGN_OR_RETURN(std::size_t n,
                          content.reader->Read(bytes->data() + done, bytes->size() - done));
    if (n == 0) {
      return DataLoss("blob " + std::string(sha256) + " is shorter than its size");
    }
    done += n;
  }
  content.reader.reset();
  content.small = std::move(bytes);
  small_blobs_.Put(sha256, content.small);
  return content;
}

std::optional<std::string> Index::DirectUrl(std::string_view sha256) {
  return blobs_.DirectUrl(sha256);
}

void Index::Revalidate() {
  std::int64_t now = NowMs();
  // The common case costs one atomic load: no lock on the page-serving path.
  if (now < next_check_ms_.load(std::memory_order_relaxed)) {
    return;
  }
  std::lock_guard lock(revalidate_mu_);
  if (now < next_check_ms_.load(std::memory_order_relaxed)) {
    return;
  }
  next_check_ms_.store(now + 250, std::memory_order_relaxed);
  auto sequence = catalog_.ChangeSequence();
  if (!sequence) {
    return;  // keep serving cached pages while the catalog is unreachable
  }
  if (*sequence != seen_sequence_) {
    if (seen_sequence_ != -1) {
      pages_.InvalidateAll();
    }
    seen_sequence_ = *sequence;
  }
}

}  // namespace pipy::index
