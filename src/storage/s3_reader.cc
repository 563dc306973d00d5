#include "storage/s3_reader.h"

#include <curl/curl.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstring>
#include <thread>

#include "core/sha256.h"
#include "core/strings.h"

namespace pipy::storage {
namespace {

// Parses a decimal header value; nullopt when it is not one.
std::optional<std::uint64_t> ParseUint(std::string_view s) {
  std::uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) {
    return std::nullopt;
  }
  return v;
}

// Read() returns once it has this much (or the caller's whole buffer, or the end).
constexpr std::size_t kMinReadBytes = 256 * 1024;

class S3BlobReader final : public BlobReader {
 public:
  S3BlobReader(S3Client& client, std::string object_key, std::string sha256,
               std::atomic<std::uint64_t>* resumed)
      : client_(client),
        object_key_(std::move(object_key)),
        sha256_(std::move(sha256)),
        resumed_(resumed) {}

  ~S3BlobReader() override { Finish(); }

  // Starts the GET (from byte 0) and waits for its status, retrying connection errors and
  // 5xx answers.
  Status Start() {
    for (int attempt = 1;; ++attempt) {
      if (attempt > 1) {
        std::this_thread::sleep_for(client_.BackoffBefore(attempt));
      }
      Status s = Begin();
      bool last = attempt >= client_.options().max_attempts;
      if (s.ok() || last || !retry_) {
        return s;
      }
    }
  }

  std::uint64_t size() const override { return size_; }

  Result<std::size_t> Read(char* buf, std::size_t n) override {
    if (n == 0) {
      return std::size_t{0};
    }
    for (;;) {
      if (pos_ < buffer_.size()) {
        std::size_t take = std::min(n, buffer_.size() - pos_);
        std::memcpy(buf, buffer_.data() + pos_, take);
        pos_ += take;
        if (pos_ == buffer_.size()) {
          buffer_.clear();
          pos_ = 0;
        }
        return Deliver(buf, take);
      }
      if (delivered_ >= size_) {
        if (size_ == 0) {
          return Deliver(buf, 0);
        }
        return std::size_t{0};
      }
      if (!done_) {
        target_ = buf;
        target_room_ = n;
        target_filled_ = 0;
        // Fill a good part of the caller's buffer before returning: each Read is a hop
        // between threads for the HTTP server, so one socket read's worth is too little.
        const std::size_t enough = std::min(n, kMinReadBytes);
        do {
          Pump();
        } while (!done_ && target_filled_ < enough);
        std::size_t got = target_filled_;
        target_ = nullptr;
        target_room_ = 0;
        if (got > 0) {
          return Deliver(buf, got);
        }
        continue;
      }
      // The transfer ended before the last byte: resume from where the caller is. Counted
      // over the whole transfer: an object that keeps breaking off after a few more bytes
      // (each attempt some progress) must not be resumed without end.
      if (++resumes_ > client_.options().max_attempts) {
        return Unavailable("S3 " + client_.Describe() + ": GET " + object_key_ +
                           " broke off at byte " + std::to_string(delivered_) + ": " +
                           curl_easy_strerror(result_));
      }
      if (resumed_ != nullptr) {
        resumed_->fetch_add(1);
      }
      std::this_thread::sleep_for(client_.BackoffBefore(resumes_ + 1));
      Status s = Begin();
      if (!s.ok() && !retry_) {
        return s;
      }
    }
  }

 private:
  // Hands `n` bytes just put in `buf` to the caller, hashing them. The last ones are
  // withheld unless everything hashes to the blob's key: a transfer cut short, or a
  // shortened answer that still looks whole (its Content-Length agreeing), must never
  // reach a client as the complete file.
  Result<std::size_t> Deliver(const char* buf, std::size_t n) {
    hash_.Update(std::string_view(buf, n));
    delivered_ += n;
    if (delivered_ < size_ || verified_) {
      return n;
    }
    verified_ = true;
    if (std::string got = hash_.HexDigest(); got != sha256_) {
      return Unavailable("S3 " + client_.Describe() + ": GET " + object_key_ + " gave " +
                         std::to_string(size_) + " bytes that hash to " + got +
                         ", not to the blob's key (a broken transfer)");
    }
    return n;
  }

  static std::size_t OnHeader(char* data, std::size_t size, std::size_t n, void* user) {
    auto* self = static_cast<S3BlobReader*>(user);
    ++self->callbacks_;
    std::string_view line(data, size * n);
    if (line.substr(0, 5) == "HTTP/") {
      self->response_.headers.clear();
    } else if (line == "\r\n" || line == "\n") {
      long status = 0;
      curl_easy_getinfo(self->curl_, CURLINFO_RESPONSE_CODE, &status);
      if (status >= 200) {  // not an interim 1xx
        self->headers_done_ = true;
      }
    } else if (std::size_t colon = line.find(':'); colon != std::string_view::npos) {
      self->response_.headers[AsciiLower(TrimSpacesAndTabs(line.substr(0, colon)))] =
          std::string(TrimAsciiWhitespace(line.substr(colon + 1)));
    }
    return size * n;
  }

  static std::size_t OnBody(char* data, std::size_t size, std::size_t n, void* user) {
    auto* self = static_cast<S3BlobReader*>(user);
    ++self->callbacks_;
    std::size_t total = size * n;
    std::size_t direct = std::min(total, self->target_room_);
    if (direct > 0) {
      // A Read is waiting: its buffer first, saving a copy through buffer_.
      std::memcpy(self->target_, data, direct);
      self->target_ += direct;
      self->target_room_ -= direct;
      self->target_filled_ += direct;
    }
    self->buffer_.append(data + direct, total - direct);
    return total;
  }

  // One attempt: (re)starts the GET at byte delivered_ and waits for the status.
  Status Begin() {
    Finish();
    retry_ = false;
    done_ = false;
    headers_done_ = false;
    result_ = CURLE_OK;
    buffer_.clear();
    pos_ = 0;
    response_ = S3Response{};
    last_progress_ = std::chrono::steady_clock::now();
    S3Request request;
    request.object_key = object_key_;
    if (delivered_ > 0) {
      request.headers.emplace_back("range", "bytes=" + std::to_string(delivered_) + "-");
    }
    S3PreparedRequest prepared = client_.Prepare(request);
    curl_ = client_.Acquire();
    multi_ = curl_multi_init();
    if (curl_ == nullptr || multi_ == nullptr) {
      return Internal("cannot create libcurl handles");
    }
    for (const std::string& line : prepared.header_lines) {
      headers_ = curl_slist_append(headers_, line.c_str());
    }
    client_.ConfigureHandle(curl_, /*streaming=*/true);
    curl_easy_setopt(curl_, CURLOPT_BUFFERSIZE, 256L * 1024);  // fewer, larger callbacks
    curl_easy_setopt(curl_, CURLOPT_URL, prepared.url.c_str());
    curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, headers_);
    curl_easy_setopt(curl_, CURLOPT_HEADERFUNCTION, OnHeader);
    curl_easy_setopt(curl_, CURLOPT_HEADERDATA, this);
    curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, OnBody);
    curl_easy_setopt(curl_, CURLOPT_WRITEDATA, this);
    curl_multi_add_handle(multi_, curl_);

    while (!headers_done_ && !done_) {
      Pump();
    }
    std::string what = "GET " + object_key_;
    if (!headers_done_) {
      retry_ = S3Client::Retryable(result_, 0);
      return client_.TransportStatus(result_, curl_easy_strerror(result_), what);
    }
    curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &response_.status);
    long expected = delivered_ > 0 ? 206 : 200;
    if (response_.status != expected) {
      while (!done_) {  // the error document
        Pump();
      }
      response_.body = std::move(buffer_);
      buffer_.clear();
      retry_ = S3Client::Retryable(CURLE_OK, response_.status);
      return client_.ErrorStatus(response_, what);
    }
    std::optional<std::uint64_t> length = ParseUint(response_.Header("content-length"));
    if (!length.has_value()) {
      return Internal("S3 " + client_.Describe() + ": " + what + " answered without a length");
    }
    if (delivered_ == 0) {
      size_ = *length;
    } else if (delivered_ + *length != size_) {
      return DataLoss("S3 " + client_.Describe() + ": " + object_key_ +
                      " changed size while being read");
    }
    return Status::Ok();
  }

  // Moves the transfer forward: reads what the socket holds and, only when that was
  // nothing, waits (at most a second) for more; notes when the transfer has ended, or has
  // stalled: no byte for the timeout ends it as timed out. (curl's LOW_SPEED_* limits
  // average over several seconds, so after a burst a server that fell silent mid-body was
  // waited for about four times the timeout on every attempt.)
  void Pump() {
    int running = 0;
    std::uint64_t before = callbacks_;
    curl_multi_perform(multi_, &running);
    if (running > 0 && callbacks_ == before) {
      curl_multi_poll(multi_, nullptr, 0, 1000, nullptr);
      curl_multi_perform(multi_, &running);
    }
    const auto now = std::chrono::steady_clock::now();
    if (callbacks_ != before) {
      last_progress_ = now;
    } else if (running > 0 && now - last_progress_ > client_.options().timeout) {
      result_ = CURLE_OPERATION_TIMEDOUT;
      done_ = true;
      return;
    }
    if (running == 0) {
      int left = 0;
      while (CURLMsg* msg = curl_multi_info_read(multi_, &left)) {
        if (msg->msg == CURLMSG_DONE) {
          result_ = msg->data.result;
        }
      }
      done_ = true;
    }
  }

  // Ends the current transfer and gives its handle back (its connection is kept only when
  // the transfer completed).
  void Finish() {
    if (multi_ != nullptr) {
      if (curl_ != nullptr) {
        curl_multi_remove_handle(multi_, curl_);
      }
      curl_multi_cleanup(multi_);
      multi_ = nullptr;
    }
    if (curl_ != nullptr) {
      curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, nullptr);
      client_.Release(curl_);
      curl_ = nullptr;
    }
    curl_slist_free_all(headers_);
    headers_ = nullptr;
  }

  S3Client& client_;
  std::string object_key_;
  std::string sha256_;  // the blob's key: what the bytes must hash to
  std::atomic<std::uint64_t>* resumed_;
  Sha256 hash_;
  bool verified_ = false;
  CURL* curl_ = nullptr;
  CURLM* multi_ = nullptr;
  curl_slist* headers_ = nullptr;
  S3Response response_;
  std::string buffer_;
  std::size_t pos_ = 0;
  std::uint64_t size_ = 0;
  std::uint64_t delivered_ = 0;
  bool headers_done_ = false;
  bool done_ = false;
  bool retry_ = false;
  CURLcode result_ = CURLE_OK;
  std::uint64_t callbacks_ = 0;  // header and body callbacks so far: progress for Pump
  std::chrono::steady_clock::time_point last_progress_;  // of the current attempt
  int resumes_ = 0;  // of this transfer, bounded by max_attempts
  // The buffer of a Read waiting in Pump: body bytes go there before buffer_.
  char* target_ = nullptr;
  std::size_t target_room_ = 0;
  std::size_t target_filled_ = 0;
};

}  // namespace

Result<std::unique_ptr<BlobReader>> OpenS3Reader(S3Client& client, std::string object_key,
                                                 std::string sha256,
                                                 std::atomic<std::uint64_t>* resumed) {
  auto reader =
      std::make_unique<S3BlobReader>(client, std::move(object_key), std::move(sha256), resumed);
  PIPY_RETURN_IF_ERROR(reader->Start());
  return std::unique_ptr<BlobReader>(std::move(reader));
}

}  // namespace pipy::storage
