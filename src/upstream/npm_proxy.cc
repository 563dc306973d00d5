#include "upstream/npm_proxy.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <fstream>
#include <span>

#include <boost/json/parse.hpp>

#include "core/base64.h"
#include "core/digest.h"
#include "core/npm_name.h"
#include "core/sha256.h"
#include "core/strings.h"
#include "npm/upstream_packument.h"
#include "upstream/hijack.h"

namespace pipy::upstream {
namespace {

constexpr std::string_view kErrorsMetric = "pipy_upstream_errors_total";
// Packuments of popular packages are megabytes each: fewer are held than simple pages.
constexpr std::size_t kMaxPackuments = 500;

std::string Hex(std::string_view raw) {
  return HexEncode(std::span<const unsigned char>(
      reinterpret_cast<const unsigned char*>(raw.data()), raw.size()));
}

// "@acme/log" as one path segment, the way the public registry takes it.
std::string Escaped(std::string_view name) {
  std::string out(name);
  if (std::size_t slash = out.find('/'); slash != std::string::npos) {
    out.replace(slash, 1, "%2f");
  }
  return out;
}

// The bytes of an upstream tarball, hashed as they arrive.
struct Hashes {
  Sha256 sha256;
  Digest sha512{Digest::Algorithm::kSha512};
  Digest sha1{Digest::Algorithm::kSha1};
};

}  // namespace

Result<std::unique_ptr<NpmProxy>> NpmProxy::Create(NpmProxyOptions options, index::Index& index,
                                                   http::Metrics& metrics,
                                                   std::unique_ptr<Fetcher> fetcher) {
  if (!options.config.upstream.ends_with('/')) {
    options.config.upstream += '/';
  }
  PIPY_ASSIGN_OR_RETURN(UrlPolicy policy,
                        UrlPolicy::Create(options.config.upstream, options.config.tarball_hosts));
  if (!fetcher) {
    fetcher = MakeCurlFetcher(policy, options.config.timeout);
  }
  for (const char* sub : {"tarballs", "packuments", "downloads"}) {
    std::error_code ec;
    std::filesystem::create_directories(options.dir / sub, ec);
    if (ec) {
      return Internal("cannot create " + (options.dir / sub).string() + ": " + ec.message());
    }
  }
  return std::unique_ptr<NpmProxy>(
      new NpmProxy(std::move(options), std::move(policy), index, metrics, std::move(fetcher)));
}

NpmProxy::NpmProxy(NpmProxyOptions options, UrlPolicy policy, index::Index& index,
                   http::Metrics& metrics, std::unique_ptr<Fetcher> fetcher)
    : options_(std::move(options)),
      policy_(std::move(policy)),
      index_(index),
      metrics_(metrics),
      fetcher_(std::move(fetcher)) {
  ProjectCacheOptions cache;
  cache.upstream_url = options_.config.upstream;
  cache.ttl = options_.config.ttl;
  cache.retry_after = std::min(options_.retry_after, options_.config.ttl);
  cache.max_page_bytes = options_.config.max_packument_bytes;
  cache.max_entries = kMaxPackuments;
  cache.dir = options_.dir / "packuments";
  cache.on_error = [this](std::string_view kind, const Status& error) { CountError(kind, error); };
  const std::string upstream = options_.config.upstream;
  cache.page_url = [upstream](std::string_view name) { return upstream + Escaped(name); };
  // The full document: Pipy serves both forms from it, and `npm view` needs it.
  cache.accept = "application/json";
  // Names of the public registry follow the old-package rule (capitals, "string_decoder");
  // a capital is escaped so names that differ by case never share a file on any disk.
  cache.disk_name = [](std::string_view name) -> std::optional<std::string> {
    if (!npm_name::ValidateExisting(name).ok()) {
      return std::nullopt;
    }
    std::string file;
    for (char c : Escaped(name)) {
      if (c >= 'A' && c <= 'Z') {
        file += '^';
        file += static_cast<char>(c - 'A' + 'a');
      } else {
        file += c;
      }
    }
    return file;
  };
  cache.check_body = [](std::string_view body) -> Status {
    boost::json::error_code ec;
    boost::json::value parsed = boost::json::parse(body, ec);
    if (ec || !parsed.is_object()) {
      return BadGateway("the upstream's packument is not a JSON object");
    }
    return Status::Ok();
  };
  packuments_ = std::make_unique<ProjectCache>(*fetcher_, policy_, std::move(cache));
  SharedDownloadsOptions downloads;
  downloads.dir = options_.dir / "downloads";
  downloads.max_fetches = options_.config.max_fetches;
  downloads.slot_wait = options_.fetch_slot_wait;
  downloads.timeout = options_.config.timeout;
  downloads.max_file_bytes = options_.config.max_tarball_bytes;
  downloads_ = std::make_unique<SharedDownloads>(
      *fetcher_, std::move(downloads),
      [this](const Status& error) { CountError(ErrorKind(error), error); });
}

NpmProxy::~NpmProxy() {
  downloads_.reset();  // stops the fetches while everything they use still exists
}

void NpmProxy::CountError(std::string_view kind, const Status& error) {
  metrics_.Increment(kErrorsMetric, "kind", kind);
  spdlog::warn("npm upstream: {}", error.ToString());
}

bool NpmProxy::InInternalScope(std::string_view name) const {
  // Case-blind: "@ACME/x" is an old-style spelling the upstream might answer for, and must
  // not reach it either.
  const std::string lower = AsciiLower(name);
  for (const std::string& scope : options_.config.internal_scopes) {
    const std::string s = AsciiLower(scope);
    if (lower.size() > s.size() && lower.starts_with(s) && lower[s.size()] == '/') {
      return true;
    }
  }
  return false;
}

Result<index::CachedPage> NpmProxy::Document(const std::string& name, const std::string& kind,
                                             const std::string& registry_url) {
  if (InInternalScope(name)) {
    return NotFound("no package named '" + name + "' (its scope is internal only)");
  }
  auto cached = packuments_->Get(name);
  if (!cached) {
    return ForClient(cached.error())
        .WithContext("package '" + name + "' is not in Pipy and the upstream registry failed");
  }
  const CachedProject& copy = **cached;
  if (!copy.exists) {
    return NotFound("no package named '" + name + "', neither here nor on the upstream registry");
  }
  auto fetchable = [this](const std::string& url) { return policy_.Check(url).ok(); };
  PIPY_ASSIGN_OR_RETURN(npm::UpstreamPackument packument,
                        npm::ReadUpstreamPackument(copy.body, name, registry_url, fetchable));
  PIPY_ASSIGN_OR_RETURN(std::string body, npm::RenderUpstream(packument, kind));
  index::CachedPage page;
  page.etag = index::MakeEtag(body);
  page.content_type = "application/json";
  page.body = std::make_shared<const std::string>(std::move(body));
  page.expires_ms = copy.fresh_until_ms;
  return page;
}

Result<npm::TarballSource> NpmProxy::Tarball(const std::string& name, const std::string& file) {
  if (InInternalScope(name)) {
    return NotFound("no package named '" + name + "' (its scope is internal only)");
  }
  if (std::optional<Record> record = ReadRecord(name, file)) {
    auto stored = index_.ReadBlobForServing(record->sha256);
    if (stored) {
      return npm::TarballSource{std::move(*stored), "\"" + record->sha256 + "\""};
    }
  }
  // Where the upstream keeps it, and its digests: from the packument (a copy first).
  auto find = [&](const std::shared_ptr<const CachedProject>& copy)
      -> std::optional<npm::UpstreamTarball> {
    if (copy == nullptr || !copy->exists) {
      return std::nullopt;
    }
    auto packument = npm::ReadUpstreamPackument(
        copy->body, name, "", [this](const std::string& url) { return policy_.Check(url).ok(); });
    if (!packument) {
      return std::nullopt;
    }
    auto it = packument->tarballs.find(file);
    if (it == packument->tarballs.end()) {
      return std::nullopt;
    }
    return it->second;
  };
  std::optional<npm::UpstreamTarball> tarball = find(packuments_->Peek(name));
  if (!tarball) {
    auto copy = packuments_->Get(name);
    if (!copy) {
      return ForClient(copy.error());
    }
    tarball = find(*copy);
  }
  if (!tarball) {
    return NotFound("'" + file + "' is not a verifiable tarball of the upstream package '" +
                    name + "'");
  }
  // The published digest: sha512 when the upstream gave one, else sha1.
  std::string key;
  if (!tarball->integrity.empty()) {
    auto raw = Base64Decode(std::string_view(tarball->integrity).substr(7));
    if (!raw || raw->size() != 64) {
      return Status(StatusCode::kBadGateway, "the upstream's integrity of '" + file +
                                                 "' is not a sha512 digest");
    }
    key = Hex(*raw);
  } else {
    key = tarball->shasum;
  }
  auto hashes = std::make_shared<Hashes>();
  DownloadJob job;
  job.sha256 = key;
  job.url = tarball->url;
  job.filename = file;
  job.observe = [hashes](std::string_view data) {
    hashes->sha256.Update(data);
    hashes->sha512.Update(data);
    hashes->sha1.Update(data);
  };
  const npm::UpstreamTarball expected = *tarball;
  job.verify = [hashes, expected, file]() -> Status {
    const bool ok = !expected.integrity.empty()
                        ? Sha512Integrity(hashes->sha512.Raw()) == expected.integrity
                        : hashes->sha1.Hex() == expected.shasum;
    if (!ok) {
      return DataLoss("the upstream's tarball '" + file + "' does not match its published " +
                      (expected.integrity.empty() ? "shasum" : "integrity") +
                      "; it is neither stored nor served");
    }
    return Status::Ok();
  };
  job.commit = [this, hashes, expected, name, file](const std::filesystem::path& path) -> Status {
    const std::string sha256 = hashes->sha256.HexDigest();
    auto stored = index_.AdoptBlob(path, sha256);
    if (!stored) {
      return stored.error();
    }
    WriteRecord(name, file, Record{sha256, expected.integrity, expected.shasum});
    return Status::Ok();
  };
  auto opened = downloads_->Open(std::move(job));
  if (!opened) {
    if (opened.error().code() == StatusCode::kUnavailable) {
      metrics_.Increment(kErrorsMetric, "kind", "busy");
      return opened.error();
    }
    return ForClient(opened.error());
  }
  // Nothing is sent before the bytes are verified: a client that unpacks as it downloads
  // (npm 9 does) must never see a byte of a tarball that turns out not to match. The fetch
  // is shared, so this waits for it to end (verified and stored) and then serves the blob.
  std::unique_ptr<DownloadStream> stream = std::move(*opened);
  std::vector<char> sink(64 * 1024);
  for (;;) {
    Result<std::size_t> n = stream->Read(sink.data(), sink.size());
    if (!n) {
      return ForClient(n.error());
    }
    if (*n == 0) {
      break;
    }
  }
  // The fetch this request joined may be another request's (its hashes are that job's):
  // the record its commit wrote names the blob.
  std::optional<Record> record = ReadRecord(name, file);
  if (!record) {
    return Internal("the upstream's tarball '" + file + "' was stored but not recorded");
  }
  const std::string sha256 = record->sha256;
  auto stored = index_.ReadBlobForServing(sha256);
  if (!stored) {
    return stored.error();
  }
  return npm::TarballSource{std::move(*stored), "\"" + sha256 + "\""};
}

Status NpmProxy::CheckNewProject(const auth::Principal& who, std::string_view name) {
  if (InInternalScope(name)) {
    return Status::Ok();
  }
  return DecideNewProject(
      who, name, options_.config.allow_shadowing,
      [&]() -> Result<bool> {
        PIPY_ASSIGN_OR_RETURN(auto copy, packuments_->Get(name));
        return copy->exists;
      },
      kNpmWords);
}

std::filesystem::path NpmProxy::RecordPath(std::string_view name, std::string_view file) const {
  return options_.dir / "tarballs" /
         (Sha256Hex(std::string(name) + "\n" + std::string(file)) + ".record");
}

std::optional<NpmProxy::Record> NpmProxy::ReadRecord(std::string_view name,
                                                     std::string_view file) const {
  std::ifstream in(RecordPath(name, file));
  Record record;
  if (!in || !std::getline(in, record.sha256) || record.sha256.size() != 64 ||
      record.sha256.find_first_not_of("0123456789abcdef") != std::string::npos) {
    return std::nullopt;
  }
  std::getline(in, record.integrity);
  std::getline(in, record.shasum);
  return record;
}

void NpmProxy::WriteRecord(std::string_view name, std::string_view file, const Record& record) {
  static std::atomic<std::uint64_t> counter{0};
  std::filesystem::path path = RecordPath(name, file);
  std::filesystem::path tmp = path;
  tmp += ".tmp" + std::to_string(counter.fetch_add(1));
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << record.sha256 << '\n' << record.integrity << '\n' << record.shasum << '\n';
    if (!out.flush()) {
      std::error_code ec;
      std::filesystem::remove(tmp, ec);
      return;
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
}

}  // namespace pipy::upstream
