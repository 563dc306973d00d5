// Downloads of upstream files shared by every request that wants the same file: one fetch
// per sha256, however many clients ask for it at once, and a bounded number of distinct
// fetches. The fetch writes the file into a temp file under `dir`, hashing it on the way;
// every request (the first included) streams from that growing file, so a client's memory
// is only its connection's buffers, however slowly it reads. A client that stops reading
// or disconnects neither stops nor slows the fetch: it finishes once, into the cache (its
// size bounded by max_file_bytes, its stalls by the timeout). When the fetch fails or the
// bytes do not have the published sha256, every reader gets the error (the response is cut
// short, never a complete 200) and nothing is kept.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "core/status.h"
#include "upstream/fetcher.h"

namespace pipy::upstream {

struct SharedDownloadsOptions {
  std::filesystem::path dir;                     // temp files of running fetches; cleared at start
  int max_fetches = 8;                           // distinct files fetched at once
  std::chrono::milliseconds slot_wait{2'000};    // a request waits this long for a free fetch
  std::chrono::milliseconds timeout{10'000};     // the upstream's: its answer and each stall
  std::uint64_t max_file_bytes = 8ull << 30;     // a larger file fails its fetch
};

// What to fetch and how to keep it.
struct DownloadJob {
  // The published sha256: the key of the shared fetch, checked once the file is complete.
  // With `verify` set, any key that names the file uniquely (hex only: it names the temp
  // file), and the sha256 is not checked.
  std::string sha256;
  std::string url;
  std::string filename;  // for messages
  // Runs on the fetch's thread once the temp file at `path` is complete and has `sha256`;
  // stores it and may take the file (a rename). Its error fails every reader.
  std::function<Status(const std::filesystem::path& path)> commit;
  // For upstreams that publish another digest (npm's sha512 integrity): `observe` sees
  // every piece of the body as it is written, `verify` decides once it is complete (before
  // `commit`); its error fails every reader. Both may be empty.
  std::function<void(std::string_view data)> observe;
  std::function<Status()> verify;
};

// One reader of a shared download, positioned at the start of the file. Not thread-safe
// (one reader, one response); keeps what it reads alive however long it lives.
class DownloadStream {
 public:
  struct State;
  DownloadStream(std::shared_ptr<State> state, std::chrono::milliseconds wait);
  ~DownloadStream();

  // Copies up to `n` bytes from the reader's position into `buf` as soon as at least one
  // is fetched (never waiting to fill `buf`; waiting at most the timeout for the fetch to
  // progress). 0 at the end of a file that was verified and stored; the fetch's error when
  // it failed (kDataLoss for a sha256 mismatch), kDeadlineExceeded when it stalled.
  Result<std::size_t> Read(char* buf, std::size_t n);

 private:
  std::shared_ptr<State> state_;
  std::chrono::milliseconds wait_;
  std::uint64_t offset_ = 0;
};

class SharedDownloads {
 public:
  // `fetcher` must outlive this object. `on_error` is called once per failed fetch, on
  // the fetch's thread (e.g. for metrics).
  SharedDownloads(Fetcher& fetcher, SharedDownloadsOptions options,
                  std::function<void(const Status&)> on_error);
  // Aborts the fetches still running and waits for their threads. Streams may outlive it.
  ~SharedDownloads();
  SharedDownloads(const SharedDownloads&) = delete;
  SharedDownloads& operator=(const SharedDownloads&) = delete;

  // A stream of the file `job.sha256`: joins its running fetch, or starts one (waiting up
  // to slot_wait while max_fetches other files are being fetched). Returns once the
  // upstream answered 200. Errors: kUnavailable when no fetch could start in time or the
  // server is stopping; the fetch's error when it failed before sending any bytes
  // (kBadGateway, kDeadlineExceeded, kPermissionDenied); kDeadlineExceeded when the
  // upstream did not answer in time. Thread-safe.
  Result<std::unique_ptr<DownloadStream>> Open(DownloadJob job);

  // Distinct fetches running now.
  int running() const;

 private:
  Result<std::shared_ptr<DownloadStream::State>> StartLocked(const DownloadJob& job);
  void Run(std::shared_ptr<DownloadStream::State> state, DownloadJob job);
  Status Fetch(DownloadStream::State& state, const DownloadJob& job);

  Fetcher& fetcher_;
  const SharedDownloadsOptions options_;
  const std::function<void(const Status&)> on_error_;

  mutable std::mutex mu_;
  std::condition_variable cv_;  // a fetch ended: a slot is free
  std::map<std::string, std::shared_ptr<DownloadStream::State>> running_;  // by sha256
  int threads_ = 0;             // fetch threads not yet finished
  std::atomic<bool> stopping_{false};
  std::uint64_t next_file_ = 0;
};

}  // namespace pipy::upstream
