#include "index/index.h"

#include <algorithm>
#include <chrono>
#include <fstream>
#include <future>

#include "core/sha256.h"
#include "core/strings.h"

namespace pipy::index {

namespace {

std::int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
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

}  // namespace

Index::Index(storage::BlobStore& blobs, catalog::Catalog& catalog, IndexOptions options)
    : blobs_(blobs), catalog_(catalog), options_(options), audit_(catalog, options.clock) {
  // Another node's upload or yank drops that project's pages here within milliseconds; the
  // 250 ms change-sequence check in Revalidate stays as the fallback.
  auto watch = catalog_.WatchChanges([this](std::string_view project) {
    pages_.Invalidate(project);
    ForgetFiles(project);
  });
  if (watch.has_value()) {
    change_watch_ = std::move(watch).value();
  }
}

Status Index::CheckNewProject(const auth::Principal& who, const Format& format,
                              std::string_view project) {
  if (!new_project_check_) {
    return Status::Ok();
  }
  PIPY_ASSIGN_OR_RETURN(std::string name, format.NormalizeName(project));
  PIPY_ASSIGN_OR_RETURN(auto existing, catalog_.FindProject(format.name(), name));
  return existing ? Status::Ok() : new_project_check_(who, format.name(), name);
}

namespace {

// The project's normalized name for the audit log; as the client spelled it when invalid.
std::string AuditName(const Format& format, std::string_view project) {
  Result<std::string> name = format.NormalizeName(project);
  return name ? *name : std::string(project);
}

// An audit event on `project` of `format`.
AuditEvent EventOn(std::string_view action, const Format& format, std::string_view project,
                   std::string target) {
  return AuditEvent{action, std::string(format.name()), AuditName(format, project),
                    std::move(target)};
}

}  // namespace

Result<PublishResult> Index::Publish(const auth::Principal& who, const Format& format,
                                     PublishRequest request) {
  AuditEvent event =
      EventOn(kAuditPublish, format, request.project, request.version + " " + request.filename);
  bool shadow_override = false;
  // Tags committed with the file (npm's dist-tags of the version) are changes of their own.
  const std::vector<std::string> tags = request.release.tags;
  const std::string project = request.project;
  const std::string version = request.version;
  Result<PublishResult> result = PublishUnaudited(who, format, std::move(request), shadow_override);
  if (shadow_override) {
    event.action = kAuditPublishShadowOverride;
  }
  if (result && result->outcome == catalog::AddFileOutcome::kIdenticalExists) {
    audit_.Record(who, event, Status::Ok(), "ok: unchanged (the identical file exists)");
  } else {
    audit_.Record(who, event, result.status());
  }
  if (result && result->outcome == catalog::AddFileOutcome::kCreated) {
    for (const std::string& tag : tags) {
      audit_.Record(who, EventOn(kAuditTagSet, format, project, tag + " " + version),
                    Status::Ok());
    }
  }
  return result;
}

bool Index::AdminOverridesNewProjectCheck(const auth::Principal& who, const Format& format,
                                          const std::string& project) {
  if (!who.IsAdmin()) {
    return false;
  }
  auth::Principal without_admin = who;
  std::erase(without_admin.scopes, std::string("admin"));
  // Only a refusal counts (kAlreadyExists: the name exists upstream); an upstream that
  // cannot tell (kUnavailable) proves no override.
  return new_project_check_(without_admin, format.name(), project).code() ==
         StatusCode::kAlreadyExists;
}

Result<PublishResult> Index::PublishUnaudited(const auth::Principal& who, const Format& format,
                                              PublishRequest request, bool& shadow_override) {
  PIPY_ASSIGN_OR_RETURN(std::string project, format.NormalizeName(request.project));
  PIPY_ASSIGN_OR_RETURN(FormatVersion version, format.ParseVersion(request.version));
  const std::string& filename = request.filename;
  if (filename.empty() || filename.size() > 255 ||
      filename.find_first_of(std::string_view("/\\\0", 3)) != std::string::npos) {
    return InvalidArgument("invalid filename '" + filename + "'");
  }
  if (!who.CanUpload(project)) {
    return PermissionDenied("token '" + who.token_name + "' may not upload to project '" +
                            project + "'");
  }
  if (new_project_check_) {
    PIPY_ASSIGN_OR_RETURN(auto existing_project, catalog_.FindProject(format.name(), project));
    if (!existing_project) {
      PIPY_RETURN_IF_ERROR(new_project_check_(who, format.name(), project));
      shadow_override = AdminOverridesNewProjectCheck(who, format, project);
    }
  }

  PIPY_ASSIGN_OR_RETURN(FileDigest digest, HashFile(request.file));
  if (digest.size == 0) {
    return InvalidArgument("the uploaded file is empty");
  }
  if (!request.declared_sha256.empty() && AsciiLower(request.declared_sha256) != digest.sha256) {
    return InvalidArgument("sha256_digest does not match the uploaded content");
  }

  // A retry of a publish that already succeeded is answered before any archive work.
  PIPY_ASSIGN_OR_RETURN(auto existing, catalog_.FindFile(format.name(), project, filename));
  if (existing) {
    if (existing->sha256 == digest.sha256 && existing->size == digest.size) {
      return PublishResult{catalog::AddFileOutcome::kIdenticalExists, *existing};
    }
    return AlreadyExists("file '" + filename +
                         "' already exists with different content; published files are "
                         "immutable, upload a new version");
  }
  // Tombstones are checked again inside the commit; checking here stores no blob for a
  // publish that cannot succeed.
  PIPY_ASSIGN_OR_RETURN(auto tombstones, catalog_.ListTombstones(format.name(), project));
  for (const catalog::Tombstone& t : tombstones) {
    if ((t.kind == catalog::TombstoneKind::kFile && t.name == filename) ||
        (t.kind == catalog::TombstoneKind::kVersion && t.name == version.key)) {
      return AlreadyExists((t.kind == catalog::TombstoneKind::kFile
                                ? "file '" + filename + "'"
                                : "version " + version.spelling + " of " + project) +
                           " was removed by an admin and can never be published again; "
                           "publish a new version");
    }
  }
  if (request.inspect) {
    PIPY_RETURN_IF_ERROR(request.inspect(request));
  }

  // Blobs first, row last: a crash in between leaves only an unreferenced blob. Extra
  // blobs are stored on a second thread while the file is: their fsyncs overlap (the file
  // system commits them together), which is most of a publish's latency.
  std::future<Result<std::vector<std::string>>> extra_blobs;
  if (!request.extra_blobs.empty() || !request.manifest.empty()) {
    extra_blobs = std::async(std::launch::async, [this, &request]()
                                 -> Result<std::vector<std::string>> {
      std::vector<std::string> keys;
      for (const auto& extra : request.extra_blobs) {
        PIPY_ASSIGN_OR_RETURN(storage::BlobInfo info, storage::PutBytes(blobs_, extra.bytes));
        keys.push_back(info.key);
      }
      if (!request.manifest.empty()) {
        PIPY_ASSIGN_OR_RETURN(storage::BlobInfo info, storage::PutBytes(blobs_, request.manifest));
        keys.push_back(info.key);
      }
      return keys;
    });
  }
  // A disposable temp file is handed over: a local store renames it into place.
  auto stored = request.file_is_disposable ? blobs_.Adopt(request.file, digest.sha256)
                                           : storage::PutFile(blobs_, request.file, digest.sha256);
  catalog::FileRecord record;
  if (extra_blobs.valid()) {
    auto keys = extra_blobs.get();
    if (!keys) {
      return keys.error().WithContext("storing the metadata");
    }
    for (std::size_t i = 0; i < request.extra_blobs.size(); ++i) {
      request.attributes[request.extra_blobs[i].attribute] = (*keys)[i];
    }
    if (!request.manifest.empty()) {
      request.release.manifest_sha256 = keys->back();
    }
  }
  if (!stored) {
    return stored.error().WithContext("storing the file");
  }

  record.format = std::string(format.name());
  record.project = project;
  // The release is found by its key inside the catalog's commit, so two publishes of equal
  // versions at once still meet there; it keeps the spelling it was first published with.
  record.version = version.spelling;
  record.version_key = version.key;
  record.filename = filename;
  record.attributes = std::move(request.attributes);
  record.size = digest.size;
  record.sha256 = digest.sha256;
  record.upload_time_ms = options_.clock ? options_.clock() : NowMs();
  record.uploader = request.uploader;
  record.provenance = request.provenance;
  PIPY_ASSIGN_OR_RETURN(catalog::AddFileOutcome outcome,
                        catalog_.AddFile(record, request.release));
  pages_.Invalidate(record.project);
  // The stored row: its release's spelling of the version (and, for a no-op, its bytes).
  PIPY_ASSIGN_OR_RETURN(auto row, catalog_.FindFile(format.name(), project, filename));
  if (row) {
    record = *row;
  }
  return PublishResult{outcome, record};
}

Result<Index::ReleaseRef> Index::ResolveRelease(const auth::Principal& who, const Format& format,
                                                std::string_view project,
                                                std::string_view version, bool admin_only) {
  PIPY_ASSIGN_OR_RETURN(std::string name, format.NormalizeName(project));
  PIPY_ASSIGN_OR_RETURN(FormatVersion parsed, format.ParseVersion(version));
  if (admin_only ? !who.IsAdmin() : !who.CanUpload(name)) {
    return PermissionDenied(admin_only ? "removing releases and files needs an admin token"
                                       : "token '" + who.token_name +
                                             "' may not change project '" + name + "'");
  }
  return ReleaseRef{std::move(name), std::move(parsed)};
}

namespace {

// The catalog's kNotFound for a release, in the caller's words; other errors unchanged.
Status NotFoundAs(Status s, const std::string& project, std::string_view version) {
  if (s.code() == StatusCode::kNotFound) {
    return NotFound("project '" + project + "' has no release " + std::string(version));
  }
  return s;
}

}  // namespace

Status Index::SetYanked(const auth::Principal& who, const Format& format,
                        std::string_view project, std::string_view version, bool yanked,
                        std::string_view reason) {
  const Status status = [&]() -> Status {
    PIPY_ASSIGN_OR_RETURN(ReleaseRef ref, ResolveRelease(who, format, project, version, false));
    // Equality, not spelling: "1.0.0" names the Python release stored as "1.0".
    PIPY_RETURN_IF_ERROR(NotFoundAs(
        catalog_.SetYanked(format.name(), ref.project, ref.version.key, yanked, reason),
        ref.project, version));
    pages_.Invalidate(ref.project);
    return Status::Ok();
  }();
  audit_.Record(
      who, EventOn(yanked ? kAuditYank : kAuditUnyank, format, project, std::string(version)),
      status);
  return status;
}

Status Index::SetDeprecated(const auth::Principal& who, const Format& format,
                            std::string_view project, std::string_view version,
                            std::string_view message) {
  const Status status = [&]() -> Status {
    PIPY_ASSIGN_OR_RETURN(ReleaseRef ref, ResolveRelease(who, format, project, version, false));
    PIPY_RETURN_IF_ERROR(NotFoundAs(
        catalog_.SetDeprecated(format.name(), ref.project, ref.version.key, message), ref.project,
        version));
    pages_.Invalidate(ref.project);
    return Status::Ok();
  }();
  audit_.Record(who, EventOn(kAuditDeprecate, format, project, std::string(version)), status);
  return status;
}

Status Index::SetTag(const auth::Principal& who, const Format& format, std::string_view project,
                     std::string_view tag, std::string_view version) {
  const Status status = [&]() -> Status {
    PIPY_ASSIGN_OR_RETURN(ReleaseRef ref, ResolveRelease(who, format, project, version, false));
    if (tag.empty()) {
      return InvalidArgument("a tag needs a name");
    }
    PIPY_RETURN_IF_ERROR(NotFoundAs(
        catalog_.SetTag(format.name(), ref.project, tag, ref.version.key), ref.project, version));
    pages_.Invalidate(ref.project);
    return Status::Ok();
  }();
  audit_.Record(
      who, EventOn(kAuditTagSet, format, project, std::string(tag) + " " + std::string(version)),
      status);
  return status;
}

Status Index::RemoveTag(const auth::Principal& who, const Format& format,
                        std::string_view project, std::string_view tag) {
  const Status status = [&]() -> Status {
    PIPY_ASSIGN_OR_RETURN(std::string name, format.NormalizeName(project));
    if (!who.CanUpload(name)) {
      return PermissionDenied("token '" + who.token_name + "' may not change project '" + name +
                              "'");
    }
    PIPY_RETURN_IF_ERROR(catalog_.RemoveTag(format.name(), name, tag));
    pages_.Invalidate(name);
    return Status::Ok();
  }();
  audit_.Record(who, EventOn(kAuditTagRemove, format, project, std::string(tag)), status);
  return status;
}

Result<std::map<std::string, std::string>> Index::ListTags(const Format& format,
                                                          std::string_view project) {
  PIPY_ASSIGN_OR_RETURN(auto tags, catalog_.ListTags(format.name(), project));
  PIPY_ASSIGN_OR_RETURN(auto releases, catalog_.ListReleases(format.name(), project));
  std::map<std::string, std::string> spelling;  // version key -> stored version
  for (const auto& release : releases) {
    spelling[release.version_key] = release.version;
  }
  for (auto& [tag, key] : tags) {
    if (auto it = spelling.find(key); it != spelling.end()) {
      key = it->second;
    }
  }
  return tags;
}

Status Index::RemoveRelease(const auth::Principal& who, const Format& format,
                            std::string_view project, std::string_view version) {
  const Status status = [&]() -> Status {
    PIPY_ASSIGN_OR_RETURN(ReleaseRef ref, ResolveRelease(who, format, project, version, true));
    PIPY_RETURN_IF_ERROR(NotFoundAs(
        catalog_.RemoveRelease(format.name(), ref.project, ref.version.key, who.token_name),
        ref.project, version));
    ForgetFiles();
    pages_.Invalidate(ref.project);
    return Status::Ok();
  }();
  audit_.Record(who, EventOn(kAuditRemoveRelease, format, project, std::string(version)), status);
  return status;
}

Status Index::RemoveFile(const auth::Principal& who, const Format& format,
                         std::string_view project, std::string_view filename) {
  const Status status = [&]() -> Status {
    PIPY_ASSIGN_OR_RETURN(std::string name, format.NormalizeName(project));
    if (!who.IsAdmin()) {
      return PermissionDenied("removing releases and files needs an admin token");
    }
    PIPY_RETURN_IF_ERROR(catalog_.RemoveFile(format.name(), name, filename, who.token_name));
    ForgetFiles();
    pages_.Invalidate(name);
    return Status::Ok();
  }();
  audit_.Record(who, EventOn(kAuditRemoveFile, format, project, std::string(filename)), status);
  return status;
}

void Index::ForgetFiles(std::string_view project) {
  std::lock_guard lock(files_mu_);
  if (auto it = files_.find(std::string(project)); it != files_.end()) {
    cached_files_ -= it->second.size();
    files_.erase(it);
  }
}

void Index::ForgetFiles() {
  std::lock_guard lock(files_mu_);
  files_.clear();
  cached_files_ = 0;
}

Result<std::shared_ptr<const ProjectView>> Index::GetProject(const Format& format,
                                                             std::string_view project) {
  PIPY_ASSIGN_OR_RETURN(auto record, catalog_.FindProject(format.name(), project));
  if (!record) {
    return NotFound("no project named '" + std::string(project) + "'");
  }
  auto view = std::make_shared<ProjectView>();
  view->project = *record;
  PIPY_ASSIGN_OR_RETURN(view->releases, catalog_.ListReleases(format.name(), project));
  PIPY_ASSIGN_OR_RETURN(view->files, catalog_.ListFiles(format.name(), project));

  // Newest first by the format's order.
  auto newer = [&format](std::string_view a, std::string_view b) { return format.Newer(a, b); };
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

Result<bool> Index::HasProject(const Format& format, std::string_view project) {
  PIPY_ASSIGN_OR_RETURN(auto record, catalog_.FindProject(format.name(), project));
  return record.has_value();
}

Result<storage::BlobInfo> Index::StoreBlob(std::string_view bytes) {
  return storage::PutBytes(blobs_, bytes);
}

Result<storage::BlobInfo> Index::AdoptBlob(const std::filesystem::path& file,
                                           std::string_view sha256) {
  return blobs_.Adopt(file, sha256);
}

Result<std::vector<catalog::ProjectRecord>> Index::ListProjects(const Format& format) {
  return catalog_.ListProjects(format.name());
}

Result<catalog::FileRecord> Index::FindFile(const Format& format, std::string_view project,
                                            std::string_view filename) {
  Revalidate();  // a change seen only through the change sequence drops the rows too
  std::string project_key(project);
  std::string key;
  key.reserve(format.name().size() + filename.size() + 1);
  key.append(format.name()).append(1, '\0').append(filename);
  {
    std::lock_guard lock(files_mu_);
    if (auto rows = files_.find(project_key); rows != files_.end()) {
      if (auto it = rows->second.find(key); it != rows->second.end()) {
        return it->second;
      }
    }
  }
  PIPY_ASSIGN_OR_RETURN(auto row, catalog_.FindFile(format.name(), project, filename));
  if (!row) {
    // Not cached: it may be uploaded later.
    return NotFound("no file named '" + std::string(filename) + "'");
  }
  std::lock_guard lock(files_mu_);
  if (cached_files_ >= kMaxCachedFiles) {
    files_.clear();  // crude bound; a full cache is refilled from the catalog on demand
    cached_files_ = 0;
  }
  if (files_[std::move(project_key)].emplace(std::move(key), *row).second) {
    ++cached_files_;
  }
  return *row;
}

Result<std::string> Index::ReadBlob(std::string_view sha256, std::uint64_t max_bytes) {
  if (auto small = small_blobs_.Get(sha256); small && small->size() <= max_bytes) {
    return *small;
  }
  return storage::ReadAll(blobs_, sha256, max_bytes);
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

std::optional<CachedPage> Index::FindPage(std::string_view project, const std::string& key) {
  Revalidate();
  return pages_.Find(project, key);
}

Result<CachedPage> Index::GetOrBuildPage(std::string_view project, const std::string& key,
                                         const std::function<Result<CachedPage>()>& build) {
  Revalidate();
  return pages_.GetOrBuild(project, key, build);
}

void Index::Revalidate() {
  std::int64_t now = options_.clock ? options_.clock() : NowMs();
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
      ForgetFiles();
    }
    seen_sequence_ = *sequence;
  }
}

}  // namespace pipy::index
