#include "upstream/project_cache.h"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <fstream>
#include <sstream>

#include "core/pep503.h"
#include "core/strings.h"
#include "upstream/project_page.h"

namespace pipy::upstream {
namespace {

constexpr std::string_view kDiskMagic = "pipy-upstream-page 1";

struct DiskPage {
  int status = 0;
  std::string content_type;
  std::string etag;
  std::string last_modified;
  std::int64_t fetched_ms = 0;
  std::string body;
};

std::optional<DiskPage> ReadDiskPage(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return std::nullopt;
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string text = buffer.str();
  std::size_t end = text.find("\n\n");
  if (end == std::string::npos || !text.starts_with(kDiskMagic)) {
    return std::nullopt;
  }
  DiskPage page;
  for (std::string_view line : SplitAscii(std::string_view(text).substr(0, end), '\n')) {
    std::size_t colon = line.find(": ");
    if (colon == std::string_view::npos) {
      continue;
    }
    std::string_view key = line.substr(0, colon);
    std::string_view value = line.substr(colon + 2);
    if (key == "status") {
      std::from_chars(value.data(), value.data() + value.size(), page.status);
    } else if (key == "content-type") {
      page.content_type = std::string(value);
    } else if (key == "etag") {
      page.etag = std::string(value);
    } else if (key == "last-modified") {
      page.last_modified = std::string(value);
    } else if (key == "fetched-ms") {
      std::from_chars(value.data(), value.data() + value.size(), page.fetched_ms);
    }
  }
  page.body = text.substr(end + 2);
  return page;
}

// What a page answer means, once parsed and filtered. `status` is 200, 404 or 410.
Result<CachedProject> Interpret(int status, std::string_view content_type, std::string_view body,
                                const std::string& url, std::string_view normalized,
                                const UrlPolicy& policy) {
  CachedProject out;
  out.project.name = std::string(normalized);
  if (status == 404 || status == 410) {
    return out;
  }
  out.exists = true;
  if (IsSimpleJson(content_type)) {
    auto parsed = ParseProjectJson(body, url, normalized);
    if (!parsed) {
      return BadGateway("the upstream's page " + url + " is not valid PEP 691 JSON: " +
                        parsed.error().message());
    }
    out.project = SelectServable(*parsed, policy);
  } else {
    out.project = SelectServable(ParseProjectHtml(body, url, normalized), policy);
  }
  return out;
}

}  // namespace

std::string_view ErrorKind(const Status& error) {
  switch (error.code()) {
    case StatusCode::kDeadlineExceeded:
      return "timeout";
    case StatusCode::kPermissionDenied:
      return "refused_url";
    case StatusCode::kBadGateway:
      return error.message().starts_with("cannot fetch") ? "unreachable" : "bad_response";
    case StatusCode::kDataLoss:
      return "hash_mismatch";
    default:
      return "other";
  }
}

ProjectCache::ProjectCache(Fetcher& fetcher, const UrlPolicy& policy, ProjectCacheOptions options)
    : fetcher_(fetcher), policy_(policy), options_(std::move(options)) {
  if (!options_.upstream_url.ends_with('/')) {
    options_.upstream_url += '/';
  }
  options_.negative_ttl = std::min(options_.negative_ttl, options_.ttl);
  options_.max_entries = std::max<std::size_t>(options_.max_entries, 1);
  if (!options_.dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(options_.dir, ec);
  }
}

std::string ProjectCache::PageUrl(std::string_view normalized) const {
  if (options_.page_url) {
    return options_.page_url(normalized);
  }
  return options_.upstream_url + std::string(normalized) + "/";
}

Result<CachedProject> ProjectCache::Read(int status, std::string_view content_type,
                                         std::string_view body, const std::string& url,
                                         std::string_view normalized) const {
  if (!options_.page_url) {
    return Interpret(status, content_type, body, url, normalized, policy_);
  }
  CachedProject out;
  out.project.name = std::string(normalized);
  if (status == 404 || status == 410) {
    return out;
  }
  if (options_.check_body) {
    PIPY_RETURN_IF_ERROR(options_.check_body(body));
  }
  out.exists = true;
  out.body = std::string(body);
  return out;
}

std::int64_t ProjectCache::Now() const {
  if (options_.now_ms) {
    return options_.now_ms();
  }
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::optional<std::filesystem::path> ProjectCache::DiskPath(std::string_view normalized) const {
  if (options_.dir.empty()) {
    return std::nullopt;
  }
  if (options_.disk_name) {
    std::optional<std::string> file = options_.disk_name(normalized);
    if (!file || file->empty() || file->find('/') != std::string::npos || *file == "." ||
        *file == "..") {
      return std::nullopt;
    }
    return options_.dir / *file;
  }
  if (!pep503::IsValidName(normalized) || pep503::NormalizeName(normalized) != normalized) {
    return std::nullopt;
  }
  return options_.dir / std::string(normalized);
}

std::size_t ProjectCache::EntryCount() const {
  std::lock_guard lock(slots_mu_);
  return slots_.size();
}

std::shared_ptr<ProjectCache::Slot> ProjectCache::SlotFor(std::string_view normalized) {
  std::lock_guard lock(slots_mu_);
  std::string key(normalized);
  auto found = slots_.find(key);
  if (found != slots_.end()) {
    lru_.splice(lru_.begin(), lru_, found->second.lru);
    return found->second.slot;
  }
  EvictLocked(options_.max_entries - 1);  // room for the new one
  lru_.push_front(key);
  auto slot = std::make_shared<Slot>();
  slots_.emplace(std::move(key), Entry{slot, lru_.begin()});
  return slot;
}

void ProjectCache::EvictLocked(std::size_t keep) {
  // A slot another caller holds stays: its fetch (and the callers waiting on it) must keep
  // sharing one upstream request. use_count() cannot grow meanwhile: new holders only come
  // through SlotFor, under slots_mu_; a stale higher count only delays an eviction.
  auto it = lru_.end();
  while (slots_.size() > keep && it != lru_.begin()) {
    --it;
    auto entry = slots_.find(*it);
    if (entry->second.slot.use_count() > 1) {
      continue;
    }
    slots_.erase(entry);
    it = lru_.erase(it);
  }
}

void ProjectCache::LoadLocked(Slot& slot, std::string_view normalized) {
  if (slot.loaded) {
    return;
  }
  slot.loaded = true;
  std::optional<std::filesystem::path> path = DiskPath(normalized);
  if (!path) {
    return;
  }
  std::optional<DiskPage> disk = ReadDiskPage(*path);
  if (!disk) {
    return;
  }
  if (disk->status != 200) {
    // Written by an older version, which also kept "not upstream" answers: drop it.
    std::error_code ec;
    std::filesystem::remove(*path, ec);
    return;
  }
  auto project =
      Read(disk->status, disk->content_type, disk->body, PageUrl(normalized), normalized);
  if (!project) {
    return;
  }
  project->fetched_ms = disk->fetched_ms;
  project->fresh_until_ms = disk->fetched_ms + options_.ttl.count();
  slot.copy = std::make_shared<const CachedProject>(std::move(*project));
  slot.etag = disk->etag;
  slot.last_modified = disk->last_modified;
}

std::shared_ptr<const CachedProject> ProjectCache::Peek(std::string_view normalized) {
  std::shared_ptr<Slot> slot = SlotFor(normalized);
  std::lock_guard lock(slot->copy_mu);
  LoadLocked(*slot, normalized);
  return slot->copy;
}

Result<std::shared_ptr<const CachedProject>> ProjectCache::Get(std::string_view normalized) {
  std::shared_ptr<Slot> slot = SlotFor(normalized);
  std::lock_guard fetch_lock(slot->fetch_mu);
  std::shared_ptr<const CachedProject> copy;
  {
    std::lock_guard lock(slot->copy_mu);
    LoadLocked(*slot, normalized);
    copy = slot->copy;
  }
  if (copy && Now() < copy->fresh_until_ms) {
    return copy;
  }
  return Fetch(*slot, normalized, std::move(copy));
}

Result<std::shared_ptr<const CachedProject>> ProjectCache::Fetch(
    Slot& slot, std::string_view normalized, std::shared_ptr<const CachedProject> copy) {
  FetchRequest request;
  request.url = PageUrl(normalized);
  request.max_bytes = options_.max_page_bytes;
  request.headers.emplace_back(
      "Accept", options_.accept.empty() ? std::string(kUpstreamAccept) : options_.accept);
  {
    std::lock_guard lock(slot.copy_mu);
    // Validators only for a copy of a page that exists (a 404 has none worth sending).
    if (copy && copy->exists) {
      if (!slot.etag.empty()) {
        request.headers.emplace_back("If-None-Match", slot.etag);
      }
      if (!slot.last_modified.empty()) {
        request.headers.emplace_back("If-Modified-Since", slot.last_modified);
      }
    }
  }
  auto fail = [&](const Status& error) -> Result<std::shared_ptr<const CachedProject>> {
    if (options_.on_error) {
      options_.on_error(ErrorKind(error), error);
    }
    if (!copy) {
      return error;
    }
    // Keep serving what we had; ask again after retry_after, not on every request.
    auto stale = std::make_shared<CachedProject>(*copy);
    stale->stale = true;
    stale->fresh_until_ms = Now() + options_.retry_after.count();
    std::lock_guard lock(slot.copy_mu);
    slot.copy = stale;
    return std::shared_ptr<const CachedProject>(stale);
  };

  Result<FetchResponse> response = FetchAll(fetcher_, request);
  if (!response) {
    return fail(response.error());
  }
  const FetchHead& head = response->head;
  const std::int64_t now = Now();
  if (head.status == 304 && copy && copy->exists) {
    auto renewed = std::make_shared<CachedProject>(*copy);
    renewed->stale = false;
    renewed->fetched_ms = now;
    renewed->fresh_until_ms = now + options_.ttl.count();
    std::lock_guard lock(slot.copy_mu);
    slot.copy = renewed;
    return std::shared_ptr<const CachedProject>(renewed);
  }
  if (head.status != 200 && head.status != 404 && head.status != 410) {
    return fail(BadGateway("the upstream answered HTTP " + std::to_string(head.status) + " for " +
                           request.url));
  }
  auto project = Read(head.status, head.content_type, response->body, request.url, normalized);
  if (!project) {
    return fail(project.error());
  }
  project->fetched_ms = now;
  if (project->exists) {
    project->fresh_until_ms = now + options_.ttl.count();
    Persist(normalized, head, response->body, now);
  } else {
    // Not upstream (any more): believed briefly, never written, and an old page removed.
    project->fresh_until_ms = now + options_.negative_ttl.count();
    Unpersist(normalized);
  }
  auto fresh = std::make_shared<const CachedProject>(std::move(*project));
  std::lock_guard lock(slot.copy_mu);
  slot.copy = fresh;
  slot.etag = head.etag;
  slot.last_modified = head.last_modified;
  return fresh;
}

void ProjectCache::Unpersist(std::string_view normalized) {
  std::optional<std::filesystem::path> path = DiskPath(normalized);
  if (!path) {
    return;
  }
  std::error_code ec;
  std::filesystem::remove(*path, ec);
}

void ProjectCache::Persist(std::string_view normalized, const FetchHead& head,
                           std::string_view body, std::int64_t fetched_ms) {
  std::optional<std::filesystem::path> path = DiskPath(normalized);
  if (!path || head.status != 200) {
    return;  // only pages that exist upstream are kept on disk
  }
  static std::atomic<std::uint64_t> counter{0};
  std::filesystem::path final_path = *path;
  std::filesystem::path tmp = final_path;
  tmp += ".tmp" + std::to_string(counter.fetch_add(1));
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) {
      return;  // the memory copy still works; the disk copy is only for restarts and outages
    }
    out << kDiskMagic << "\nstatus: " << head.status << "\ncontent-type: " << head.content_type
        << "\netag: " << head.etag << "\nlast-modified: " << head.last_modified
        << "\nfetched-ms: " << fetched_ms << "\n\n";
    out.write(body.data(), static_cast<std::streamsize>(body.size()));
    if (!out.flush()) {
      std::error_code ec;
      std::filesystem::remove(tmp, ec);
      return;
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, final_path, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
  }
}

}  // namespace pipy::upstream
