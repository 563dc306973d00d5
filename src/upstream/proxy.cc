#include "upstream/proxy.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <fstream>
#include <sstream>

#include "core/strings.h"
#include "upstream/hijack.h"
#include "upstream/project_page.h"

namespace pipy::upstream {
namespace {

constexpr std::string_view kErrorsMetric = "pipy_upstream_errors_total";

const UpstreamFile* FindIn(const CachedProject* copy, std::string_view sha256,
                           std::string_view filename) {
  if (copy == nullptr || !copy->exists) {
    return nullptr;
  }
  for (const UpstreamFile& f : copy->project.files) {
    if (f.sha256 == sha256 && f.filename == filename) {
      return &f;
    }
  }
  return nullptr;
}

}  // namespace

Result<std::unique_ptr<Proxy>> Proxy::Create(ProxyOptions options, index::Index& index,
                                             http::Metrics& metrics,
                                             std::unique_ptr<Fetcher> fetcher) {
  PIPY_ASSIGN_OR_RETURN(UrlPolicy policy,
                        UrlPolicy::Create(options.config.url, options.config.file_hosts));
  if (!fetcher) {
    fetcher = MakeCurlFetcher(policy, options.config.timeout);
  }
  std::error_code ec;
  std::filesystem::create_directories(options.dir / "files", ec);
  if (ec) {
    return Internal("cannot create " + (options.dir / "files").string() + ": " + ec.message());
  }
  return std::unique_ptr<Proxy>(
      new Proxy(std::move(options), std::move(policy), index, metrics, std::move(fetcher)));
}

Proxy::Proxy(ProxyOptions options, UrlPolicy policy, index::Index& index, http::Metrics& metrics,
             std::unique_ptr<Fetcher> fetcher)
    : options_(std::move(options)),
      policy_(std::move(policy)),
      index_(index),
      metrics_(metrics),
      fetcher_(std::move(fetcher)) {
  ProjectCacheOptions cache;
  cache.upstream_url = options_.config.url;
  cache.ttl = options_.config.ttl;
  cache.retry_after = std::min(options_.retry_after, options_.config.ttl);
  cache.max_page_bytes = options_.config.max_page_bytes;
  cache.dir = options_.dir / "pages";
  cache.on_error = [this](std::string_view kind, const Status& error) { CountError(kind, error); };
  pages_ = std::make_unique<ProjectCache>(*fetcher_, policy_, std::move(cache));
  SharedDownloadsOptions downloads;
  downloads.dir = options_.dir / "downloads";
  downloads.max_fetches = options_.max_fetches;
  downloads.slot_wait = options_.fetch_slot_wait;
  downloads.timeout = options_.config.timeout;
  downloads.max_file_bytes = options_.max_file_bytes;
  downloads_ = std::make_unique<SharedDownloads>(
      *fetcher_, std::move(downloads),
      [this](const Status& error) { CountError(ErrorKind(error), error); });
}

Proxy::~Proxy() {
  downloads_.reset();  // stops the fetches while everything they use still exists
}

void Proxy::CountError(std::string_view kind, const Status& error) {
  metrics_.Increment(kErrorsMetric, "kind", kind);
  spdlog::warn("upstream: {}", error.ToString());
}

Result<index::CachedPage> Proxy::ProjectPage(std::string_view normalized,
                                             python::SimpleFormat format) {
  auto cached = pages_->Get(normalized);
  if (!cached) {
    return ForClient(cached.error()).WithContext("project '" + std::string(normalized) +
                                      "' is not in Pipy and the upstream index failed");
  }
  const CachedProject& copy = **cached;
  if (!copy.exists) {
    return NotFound("no project named '" + std::string(normalized) +
                    "', neither here nor on the upstream index");
  }
  std::string body = format == python::SimpleFormat::kJsonV1 ? RenderProjectJson(copy.project)
                                                             : RenderProjectHtml(copy.project);
  index::CachedPage page;
  page.etag = index::MakeEtag(body);
  page.content_type = std::string(python::ContentTypeFor(format));
  page.body = std::make_shared<const std::string>(std::move(body));
  page.expires_ms = copy.fresh_until_ms;
  return page;
}

Status Proxy::CheckNewProject(const auth::Principal& who, std::string_view normalized) {
  return DecideNewProject(who, normalized, options_.config.allow_shadowing,
                          [&]() -> Result<bool> {
                            PIPY_ASSIGN_OR_RETURN(auto copy, pages_->Get(normalized));
                            return copy->exists;
                          });
}

Result<Proxy::FileEntry> Proxy::FindEntry(std::string_view project, std::string_view sha256,
                                          std::string_view filename) {
  // The record of a file this node already stored.
  std::ifstream in(RecordPath(sha256));
  if (in) {
    FileEntry entry;
    std::getline(in, entry.filename);
    std::getline(in, entry.metadata_sha256);
    std::getline(in, entry.url);
    if (entry.filename == filename) {
      entry.recorded = true;
      return entry;
    }
  }
  const UpstreamFile* file = nullptr;
  std::shared_ptr<const CachedProject> copy = pages_->Peek(project);
  file = FindIn(copy.get(), sha256, filename);
  if (file == nullptr) {
    PIPY_ASSIGN_OR_RETURN(copy, pages_->Get(project));
    file = FindIn(copy.get(), sha256, filename);
  }
  if (file == nullptr) {
    return NotFound("'" + std::string(filename) + "' with sha256 " + std::string(sha256) +
                    " is not a file of the upstream project '" + std::string(project) + "'");
  }
  FileEntry entry;
  entry.filename = file->filename;
  entry.url = file->url;
  entry.metadata_sha256 = file->metadata_sha256;
  return entry;
}

std::filesystem::path Proxy::RecordPath(std::string_view sha256) const {
  // Not named by the bare sha256: only blob stores hold files named like that.
  return options_.dir / "files" / (std::string(sha256) + ".record");
}

void Proxy::WriteRecord(std::string_view sha256, const FileEntry& entry) {
  static std::atomic<std::uint64_t> counter{0};
  std::filesystem::path path = RecordPath(sha256);
  std::filesystem::path tmp = path;
  tmp += ".tmp" + std::to_string(counter.fetch_add(1));
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << entry.filename << '\n' << entry.metadata_sha256 << '\n' << entry.url << '\n';
    if (!out.flush()) {
      std::error_code ec;
      std::filesystem::remove(tmp, ec);
      return;
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
}

Result<std::vector<std::string>> CachedBlobKeys(const std::filesystem::path& dir) {
  std::vector<std::string> keys;
  std::error_code ec;
  constexpr std::string_view kSuffix = ".record";
  // The npm proxy's records (npm_proxy.h): the blob's sha256 on the first line.
  std::filesystem::directory_iterator npm(dir / "npm" / "tarballs", ec);
  if (!ec) {
    for (const auto& entry : npm) {
      if (entry.path().filename().string().ends_with(kSuffix)) {
        std::ifstream in(entry.path());
        std::string sha256;
        if (std::getline(in, sha256) && sha256.size() == 64) {
          keys.push_back(sha256);
        }
      }
    }
  }
  ec.clear();
  std::filesystem::directory_iterator it(dir / "files", ec);
  if (ec) {
    if (ec == std::errc::no_such_file_or_directory) {
      return keys;  // nothing cached yet
    }
    return Internal("cannot list " + (dir / "files").string() + ": " + ec.message());
  }
  for (const auto& entry : it) {
    std::string name = entry.path().filename().string();
    if (!name.ends_with(kSuffix)) {
      continue;  // a temp file being written
    }
    keys.push_back(name.substr(0, name.size() - kSuffix.size()));
    std::ifstream in(entry.path());
    std::string filename;
    std::string metadata_sha256;
    std::getline(in, filename);
    std::getline(in, metadata_sha256);
    if (!metadata_sha256.empty()) {
      keys.push_back(metadata_sha256);
    }
  }
  return keys;
}

void RegisterRoutes(http::Router& router, Proxy& proxy, const app::Access& access) {
  http::RouteOptions options;
  options.name = "upstream_files";
  options.blocking = true;  // the first download of a file waits on the upstream
  router.Add("GET", std::string(kFilesPrefix) + "{sha256}/{filename}", options,
             [&proxy, &access](http::Request& request) {
               Result<auth::Principal> who = access.ForRead(request);
               if (!who) {
                 return http::ErrorResponse(who.error());
               }
               return proxy.ServeFile(request);
             });
}

}  // namespace pipy::upstream
