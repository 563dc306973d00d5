// Upstream files: served from the BlobStore once stored; otherwise fetched once, however
// many clients ask (shared_downloads.h), and streamed to each while it is written. The blob
// is stored only if its sha256 is the one the upstream published; on a mismatch nothing
// is kept and the response ends without its final chunk (chunked encoding), so the client
// sees a broken transfer instead of a complete file.
#include <spdlog/spdlog.h>

#include "app/blob_response.h"
#include "core/sha256.h"
#include "http/conditional.h"
#include "python/python_format.h"
#include "upstream/project_page.h"
#include "upstream/proxy.h"

namespace pipy::upstream {
namespace {

constexpr std::string_view kMetadataSuffix = ".metadata";
constexpr std::string_view kImmutable = "public, max-age=31536000, immutable";
constexpr std::string_view kErrorsMetric = "pipy_upstream_errors_total";

std::string ContentTypeForFile(std::string_view filename) {
  return filename.ends_with(".tar.gz") ? "application/gzip" : "application/octet-stream";
}

http::Response Immutable(http::Response response, std::string_view key,
                         std::string content_type) {
  response.SetHeader("Content-Type", std::move(content_type));
  response.SetHeader("ETag", "\"" + std::string(key) + "\"");
  response.SetHeader("Cache-Control", std::string(kImmutable));
  return response;
}

}  // namespace

http::Response Proxy::ServeFile(const http::Request& request) {
  std::string_view sha256 = request.param("sha256");
  std::string_view requested = request.param("filename");
  const bool metadata = requested.ends_with(kMetadataSuffix);
  std::string_view filename =
      metadata ? requested.substr(0, requested.size() - kMetadataSuffix.size()) : requested;
  std::string project = ProjectOfFilename(filename);
  if (!IsSha256Hex(sha256) || project.empty()) {
    return http::ErrorResponse(NotFound("no file \"" + std::string(requested) + "\" at this URL"));
  }
  // Shadowing, decided now: a URL handed out before the internal project existed must not
  // serve the upstream's file of that name afterwards.
  auto internal = index_.HasProject(python::PythonFormat(), project);
  if (!internal) {
    return http::ErrorResponse(internal.error());
  }
  if (*internal) {
    return http::ErrorResponse(NotFound("project '" + project +
                                        "' is an internal project: files of its upstream "
                                        "namesake are not served"));
  }
  Result<FileEntry> entry = FindEntry(project, sha256, filename);
  if (!entry) {
    return http::ErrorResponse(entry.error());
  }
  if (metadata) {
    return ServeMetadata(*entry, sha256);
  }
  std::string etag = "\"" + std::string(sha256) + "\"";
  if (http::IfNoneMatchMatches(request.header("if-none-match"), etag)) {
    http::Response response;
    response.status = 304;
    response.SetHeader("ETag", etag);
    response.SetHeader("Cache-Control", std::string(kImmutable));
    return response;
  }
  auto reader = index_.ReadBlobForServing(sha256);
  if (reader) {
    if (!entry->recorded) {
      WriteRecord(sha256, *entry);  // e.g. stored by another node: remember it here too
    }
    auto response = app::BlobResponse(std::move(*reader));
    if (!response) {
      return http::ErrorResponse(response.error());
    }
    return Immutable(std::move(*response), sha256, ContentTypeForFile(filename));
  }
  if (reader.error().code() != StatusCode::kNotFound) {
    return http::ErrorResponse(reader.error());
  }
  return Download(*entry, sha256);
}

http::Response Proxy::ServeMetadata(const FileEntry& entry, std::string_view sha256) {
  const std::string& key = entry.metadata_sha256;
  if (key.empty()) {
    return http::ErrorResponse(NotFound("\"" + entry.filename + "\" has no metadata file"));
  }
  auto reader = index_.ReadBlobForServing(key);
  if (reader) {
    auto response = app::BlobResponse(std::move(*reader));
    if (!response) {
      return http::ErrorResponse(response.error());
    }
    return Immutable(std::move(*response), key, "text/plain; charset=utf-8");
  }
  FetchRequest fetch;
  fetch.url = entry.url + std::string(kMetadataSuffix);  // PEP 658
  fetch.max_bytes = options_.config.max_page_bytes;
  auto got = FetchAll(*fetcher_, fetch);
  Status error;
  if (!got) {
    error = got.error();
  } else if (got->head.status != 200) {
    error = BadGateway("the upstream answered HTTP " + std::to_string(got->head.status) + " for " +
                       fetch.url);
  } else if (Sha256Hex(got->body) != key) {
    error = Status(StatusCode::kDataLoss, "the upstream's metadata of '" + entry.filename +
                                              "' does not match its published sha256; it is neither stored nor served");
  }
  if (!error.ok()) {
    CountError(ErrorKind(error), error);
    return http::ErrorResponse(ForClient(error));
  }
  auto stored = index_.StoreBlob(got->body);
  if (!stored) {
    spdlog::warn("upstream: cannot store metadata of {}: {}", entry.filename,
                 stored.error().ToString());
  }
  http::Response response;
  response.body = std::move(got->body);
  return Immutable(std::move(response), key, "text/plain; charset=utf-8");
}

http::Response Proxy::Download(const FileEntry& entry, std::string_view sha256) {
  DownloadJob job;
  job.sha256 = std::string(sha256);
  job.url = entry.url;
  job.filename = entry.filename;
  job.commit = [this, entry, key = job.sha256](const std::filesystem::path& path) -> Status {
    auto stored = index_.AdoptBlob(path, key);
    if (!stored) {
      return stored.error();
    }
    WriteRecord(key, entry);
    return Status::Ok();
  };
  auto opened = downloads_->Open(std::move(job));
  if (!opened) {
    if (opened.error().code() == StatusCode::kUnavailable) {
      metrics_.Increment(kErrorsMetric, "kind", "busy");
      http::Response busy = http::ErrorResponse(opened.error());
      busy.SetHeader("Retry-After", "1");
      return busy;
    }
    return http::ErrorResponse(ForClient(opened.error()));
  }
  std::shared_ptr<DownloadStream> stream = std::move(*opened);
  http::StreamBody body;  // no length: the final chunk is only sent once verified
  body.read = [stream](char* buf, std::size_t n) { return stream->Read(buf, n); };
  http::Response response;
  response.body = std::move(body);
  return Immutable(std::move(response), sha256, ContentTypeForFile(entry.filename));
}

}  // namespace pipy::upstream
