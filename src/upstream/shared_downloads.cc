#include "upstream/shared_downloads.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>
#include <thread>

#include "core/sha256.h"

namespace pipy::upstream {

// One running (or just finished) fetch, shared by the fetch's thread and its readers.
struct DownloadStream::State {
  std::filesystem::path path;  // the temp file; gone once committed or failed
  int fd = -1;                 // open on it for writing (the fetch) and pread (readers)

  std::mutex mu;
  std::condition_variable cv;  // more bytes, the head, or the end
  std::uint64_t written = 0;   // bytes of the file readers may read
  bool head_ready = false;
  Status head_error;           // with head_ready: why no body will come
  bool done = false;
  Status result;               // with done: OK only when verified and stored

  ~State() {
    if (fd >= 0) {
      ::close(fd);
    }
  }
};

namespace {

Status WriteAll(int fd, std::string_view data, const std::string& filename) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return Internal("cannot write the download of '" + filename + "': " + std::strerror(errno));
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return Status::Ok();
}

}  // namespace

DownloadStream::DownloadStream(std::shared_ptr<State> state, std::chrono::milliseconds wait)
    : state_(std::move(state)), wait_(wait) {}

DownloadStream::~DownloadStream() = default;

Result<std::size_t> DownloadStream::Read(char* buf, std::size_t n) {
  State& s = *state_;
  std::uint64_t available = 0;
  {
    std::unique_lock lock(s.mu);
    // Waits only when this reader caught up with the fetch; the fetch itself fails within
    // the timeout when the upstream stalls, which ends this wait too.
    if (!s.cv.wait_for(lock, wait_, [&] { return s.written > offset_ || s.done; })) {
      return DeadlineExceeded("the upstream stalled");
    }
    available = s.written - offset_;
    if (available == 0) {
      if (!s.result.ok()) {
        return s.result;  // the response ends abnormally: no final chunk
      }
      return std::size_t{0};
    }
  }
  // Bytes below `written` are in the file for good: read them without the lock.
  std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(n, available));
  std::size_t got = 0;
  while (got < want) {
    ssize_t r = ::pread(s.fd, buf + got, want - got, static_cast<off_t>(offset_ + got));
    if (r < 0 && errno == EINTR) {
      continue;
    }
    if (r <= 0) {
      return Internal(std::string("cannot read a download being fetched: ") +
                      (r < 0 ? std::strerror(errno) : "unexpected end of file"));
    }
    got += static_cast<std::size_t>(r);
  }
  offset_ += got;
  return got;
}

SharedDownloads::SharedDownloads(Fetcher& fetcher, SharedDownloadsOptions options,
                                 std::function<void(const Status&)> on_error)
    : fetcher_(fetcher), options_(std::move(options)), on_error_(std::move(on_error)) {
  // Temp files of a previous run are never completed: the fetch that wrote them is gone.
  std::error_code ec;
  std::filesystem::remove_all(options_.dir, ec);
  std::filesystem::create_directories(options_.dir, ec);
}

SharedDownloads::~SharedDownloads() {
  stopping_ = true;
  std::unique_lock lock(mu_);
  cv_.notify_all();
  cv_.wait(lock, [this] { return threads_ == 0; });
}

int SharedDownloads::running() const {
  std::lock_guard lock(mu_);
  return static_cast<int>(running_.size());
}

Result<std::unique_ptr<DownloadStream>> SharedDownloads::Open(DownloadJob job) {
  std::shared_ptr<DownloadStream::State> state;
  {
    std::unique_lock lock(mu_);
    auto can_go = [&] {
      return stopping_ || running_.contains(job.sha256) ||
             static_cast<int>(running_.size()) < options_.max_fetches;
    };
    if (!cv_.wait_for(lock, options_.slot_wait, can_go)) {
      return Unavailable("Pipy is already fetching " + std::to_string(options_.max_fetches) +
                         " other files from the upstream; try '" + job.filename +
                         "' again shortly");
    }
    if (stopping_) {
      return Unavailable("the server is stopping");
    }
    auto it = running_.find(job.sha256);
    if (it != running_.end()) {
      state = it->second;
    } else {
      PIPY_ASSIGN_OR_RETURN(state, StartLocked(job));
    }
  }
  const std::chrono::milliseconds wait = options_.timeout + std::chrono::seconds(1);
  std::unique_lock lock(state->mu);
  if (!state->cv.wait_for(lock, wait, [&] { return state->head_ready; })) {
    // The fetch goes on (it is bounded by the timeout too); this request gives up.
    return DeadlineExceeded("the upstream did not start sending '" + job.filename + "' in time");
  }
  if (!state->head_error.ok()) {
    return state->head_error;
  }
  if (state->done && !state->result.ok()) {
    return state->result;  // joined a fetch that just failed: an error, not a cut-off 200
  }
  return std::make_unique<DownloadStream>(state, wait);
}

Result<std::shared_ptr<DownloadStream::State>> SharedDownloads::StartLocked(
    const DownloadJob& job) {
  auto state = std::make_shared<DownloadStream::State>();
  state->path = options_.dir / (job.sha256 + "." + std::to_string(next_file_++) + ".part");
  state->fd = ::open(state->path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (state->fd < 0) {
    return Internal("cannot create a temp file for '" + job.filename +
                    "': " + std::strerror(errno));
  }
  try {
    std::thread([this, state, job] { Run(state, job); }).detach();
  } catch (const std::system_error& e) {
    std::error_code ec;
    std::filesystem::remove(state->path, ec);
    return Unavailable("cannot start fetching '" + job.filename + "': " + e.what());
  }
  ++threads_;
  running_.emplace(job.sha256, state);
  return state;
}

void SharedDownloads::Run(std::shared_ptr<DownloadStream::State> state, DownloadJob job) {
  Status outcome = Fetch(*state, job);
  std::error_code ec;
  std::filesystem::remove(state->path, ec);  // unless commit took it; readers keep their fd
  {
    std::lock_guard lock(state->mu);
    if (!state->head_ready) {
      state->head_ready = true;
      state->head_error =
          outcome.ok() ? Internal("the download of '" + job.filename + "' ended without an answer")
                       : outcome;
    }
    state->done = true;
    state->result = outcome;
    state->cv.notify_all();
  }
  if (!outcome.ok() && on_error_) {
    on_error_(outcome);
  }
  std::lock_guard lock(mu_);
  running_.erase(job.sha256);
  --threads_;
  cv_.notify_all();
}

Status SharedDownloads::Fetch(DownloadStream::State& state, const DownloadJob& job) {
  Sha256 hash;
  std::uint64_t total = 0;
  FetchRequest fetch;
  fetch.url = job.url;
  fetch.bounded_total = false;
  fetch.max_bytes = options_.max_file_bytes;
  auto too_large = [&] {
    return BadGateway("the upstream's file '" + job.filename + "' is larger than " +
                      std::to_string(options_.max_file_bytes) + " bytes");
  };
  Status got = fetcher_.Get(
      fetch,
      [&](const FetchHead& head) -> Status {
        if (head.status != 200) {
          return BadGateway("the upstream answered HTTP " + std::to_string(head.status) +
                            " for " + job.url);
        }
        if (head.content_length.has_value() && *head.content_length > options_.max_file_bytes) {
          return too_large();
        }
        std::lock_guard lock(state.mu);
        state.head_ready = true;
        state.cv.notify_all();
        return Status::Ok();
      },
      [&](std::string_view data) -> Status {
        if (stopping_) {
          return Unavailable("the server is stopping");
        }
        total += data.size();
        if (total > options_.max_file_bytes) {
          return too_large();
        }
        PIPY_RETURN_IF_ERROR(WriteAll(state.fd, data, job.filename));
        if (job.observe) {
          job.observe(data);
        } else {
          hash.Update(data);
        }
        std::lock_guard lock(state.mu);
        state.written = total;
        state.cv.notify_all();
        return Status::Ok();
      });
  PIPY_RETURN_IF_ERROR(got);
  if (job.verify) {
    PIPY_RETURN_IF_ERROR(job.verify());
  } else if (hash.HexDigest() != job.sha256) {
    return DataLoss("the upstream's file '" + job.filename +
                    "' does not match its published sha256 " + job.sha256 +
                    "; it is neither stored nor served");
  }
  return job.commit(state.path);
}

}  // namespace pipy::upstream
