#include "http/access_log.h"

#include <unistd.h>

#include <mutex>
#include <string>

#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

namespace pipy::http {

namespace {

constexpr std::size_t kBufferBytes = 64 * 1024;

// spdlog's stdout sink flushes after every line; this one writes whole buffers.
class BufferedFdSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit BufferedFdSink(int fd) : fd_(fd) { buffer_.reserve(kBufferBytes); }
  ~BufferedFdSink() override { WriteOut(); }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t formatted;
    formatter_->format(msg, formatted);
    buffer_.append(formatted.data(), formatted.size());
    if (buffer_.size() >= kBufferBytes) {
      WriteOut();
    }
  }
  void flush_() override { WriteOut(); }

 private:
  void WriteOut() {
    std::size_t done = 0;
    while (done < buffer_.size()) {
      ssize_t n = ::write(fd_, buffer_.data() + done, buffer_.size() - done);
      if (n <= 0) {
        break;  // nowhere to log to; drop the lines rather than block requests
      }
      done += static_cast<std::size_t>(n);
    }
    buffer_.clear();
  }

  int fd_;
  std::string buffer_;
};

}  // namespace

std::shared_ptr<spdlog::logger> AccessLogger() {
  static std::mutex mu;
  std::lock_guard lock(mu);
  if (auto existing = spdlog::get("pipy.access")) {
    return existing;
  }
  auto logger =
      std::make_shared<spdlog::logger>("pipy.access", std::make_shared<BufferedFdSink>(1));
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %v");
  logger->set_level(spdlog::level::info);
  logger->flush_on(spdlog::level::off);
  spdlog::register_logger(logger);
  return logger;
}

}  // namespace pipy::http
