// Upstream files: served from the BlobStore once stored; otherwise fetched on a thread of
// their own and streamed to the client while they are written to a new blob. The blob is
// committed only if its sha256 is the one the upstream published; on a mismatch nothing
// is kept and the response ends without its final chunk (chunked encoding), so the client
// sees a broken transfer instead of a complete file.
#include <fcntl.h>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstring>
#include <deque>
#include <thread>

#include "core/sha256.h"
#include "http/conditional.h"
#include "python/blob_response.h"
#include "upstream/project_page.h"
#include "upstream/proxy.h"

namespace pipy::upstream {
namespace {

constexpr std::string_view kMetadataSuffix = ".metadata";
constexpr std::string_view kImmutable = "public, max-age=31536000, immutable";
constexpr std::size_t kMaxQueuedBytes = 4 * 1024 * 1024;

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

// Shared by the download thread (producer) and the response body (consumer).
struct DownloadState {
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::string> chunks;
  std::size_t front_offset = 0;   // bytes of chunks.front() already sent
  std::size_t queued = 0;         // bytes in chunks not yet sent
  bool head_ready = false;
  Status head_error;              // with head_ready: why no body will come
  bool done = false;
  Status result;                  // with done: OK only when the blob is stored and verified
  bool abandoned = false;         // the response is gone; keep storing, stop queueing
};

// Marks the state abandoned when the response body (and its reader) is destroyed.
struct Consumer {
  std::shared_ptr<DownloadState> state;
  ~Consumer() {
    std::lock_guard lock(state->mu);
    state->abandoned = true;
    state->cv.notify_all();
  }
};

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
  auto internal = index_.catalog().FindProject(project);
  if (!internal) {
    return http::ErrorResponse(internal.error());
  }
  if (internal->has_value()) {
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
    auto response = python::BlobResponse(std::move(*reader));
    if (!response) {
      return http::ErrorResponse(response.error());
    }
    return Immutable(std::move(*response), sha256, ContentTypeForFile(filename));
  }
  if (reader.error().code() != StatusCode::kNotFound) {
    return http::ErrorResponse(reader.error());
  }
  return Download(*entry, sha256, request);
}

http::Response Proxy::ServeMetadata(const FileEntry& entry, std::string_view sha256) {
  const std::string& key = entry.metadata_sha256;
  if (key.empty()) {
    return http::ErrorResponse(NotFound("\"" + entry.filename + "\" has no metadata file"));
  }
  auto reader = index_.ReadBlobForServing(key);
  if (reader) {
    auto response = python::BlobResponse(std::move(*reader));
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
  auto stored = storage::PutBytes(index_.blobs(), got->body);
  if (!stored) {
    spdlog::warn("upstream: cannot store metadata of {}: {}", entry.filename,
                 stored.error().ToString());
  }
  http::Response response;
  response.body = std::move(got->body);
  return Immutable(std::move(response), key, "text/plain; charset=utf-8");
}

http::Response Proxy::Download(const FileEntry& entry, std::string_view sha256,
                               const http::Request& request) {
  auto state = std::make_shared<DownloadState>();
  const std::chrono::milliseconds timeout = options_.config.timeout;
  {
    std::lock_guard lock(downloads_mu_);
    ++downloads_;
  }
  std::thread([this, state, entry, key = std::string(sha256), timeout] {
    Status outcome = [&]() -> Status {
      PIPY_ASSIGN_OR_RETURN(std::unique_ptr<storage::BlobWriter> writer,
                            index_.blobs().NewWriter());
      FetchRequest fetch;
      fetch.url = entry.url;
      fetch.bounded_total = false;
      Status got = fetcher_->Get(
          fetch,
          [&](const FetchHead& head) -> Status {
            if (head.status != 200) {
              return BadGateway("the upstream answered HTTP " + std::to_string(head.status) +
                                " for " + entry.url);
            }
            std::lock_guard lock(state->mu);
            state->head_ready = true;
            state->cv.notify_all();
            return Status::Ok();
          },
          [&](std::string_view data) -> Status {
            if (stopping_) {
              return Unavailable("the server is stopping");
            }
            PIPY_RETURN_IF_ERROR(writer->Write(data));
            std::unique_lock lock(state->mu);
            // Back-pressure: a slow client slows the download, up to the timeout.
            bool room = state->cv.wait_for(lock, timeout, [&] {
              return state->abandoned || state->queued < kMaxQueuedBytes;
            });
            if (!room) {
              return DeadlineExceeded("the client stopped reading " + entry.filename);
            }
            if (!state->abandoned) {
              state->chunks.emplace_back(data);
              state->queued += data.size();
              state->cv.notify_all();
            }
            return Status::Ok();
          });
      PIPY_RETURN_IF_ERROR(got);
      auto committed = writer->Commit(key);
      if (!committed) {
        if (committed.error().code() == StatusCode::kDataLoss) {
          return Status(StatusCode::kDataLoss,
                        "the upstream's file '" + entry.filename +
                            "' does not match its published sha256 " + key +
                            "; it is neither stored nor served");
        }
        return committed.error();
      }
      WriteRecord(key, entry);
      return Status::Ok();
    }();
    if (!outcome.ok()) {
      CountError(ErrorKind(outcome), outcome);
    }
    {
      std::lock_guard lock(state->mu);
      if (!state->head_ready) {
        state->head_ready = true;
        state->head_error = outcome.ok() ? Internal("the download ended without an answer")
                                         : outcome;
      }
      state->done = true;
      state->result = outcome;
      state->cv.notify_all();
    }
    std::lock_guard lock(downloads_mu_);
    --downloads_;
    downloads_cv_.notify_all();
  }).detach();

  {
    std::unique_lock lock(state->mu);
    if (!state->cv.wait_for(lock, timeout + std::chrono::seconds(1),
                            [&] { return state->head_ready; })) {
      state->abandoned = true;
      return http::ErrorResponse(DeadlineExceeded("the upstream did not start sending '" +
                                                  entry.filename + "' in time"));
    }
    if (!state->head_error.ok()) {
      return http::ErrorResponse(ForClient(state->head_error));
    }
  }
  auto consumer = std::make_shared<Consumer>();
  consumer->state = state;
  http::StreamBody body;  // no length: the final chunk is only sent once verified
  body.read = [consumer, timeout](char* buf, std::size_t n) -> Result<std::size_t> {
    DownloadState& s = *consumer->state;
    std::unique_lock lock(s.mu);
    if (!s.cv.wait_for(lock, timeout, [&] { return !s.chunks.empty() || s.done; })) {
      return DeadlineExceeded("the upstream stalled");
    }
    if (!s.chunks.empty()) {
      std::string& front = s.chunks.front();
      std::size_t k = std::min(n, front.size() - s.front_offset);
      std::memcpy(buf, front.data() + s.front_offset, k);
      s.front_offset += k;
      s.queued -= k;
      if (s.front_offset == front.size()) {
        s.chunks.pop_front();
        s.front_offset = 0;
      }
      s.cv.notify_all();
      return k;
    }
    if (!s.result.ok()) {
      return s.result;  // ends the response abnormally: no final chunk
    }
    return std::size_t{0};
  };
  http::Response response;
  response.body = std::move(body);
  (void)request;
  return Immutable(std::move(response), sha256, ContentTypeForFile(entry.filename));
}

}  // namespace pipy::upstream
