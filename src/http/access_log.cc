#include "http/access_log.h"

#include <unistd.h>

#include <chrono>
#include <ctime>

#include <fmt/format.h>

namespace pipy::http {

namespace {

constexpr std::size_t kBufferBytes = 32 * 1024;
std::atomic<std::uint64_t> next_log_id{1};

}  // namespace

AccessLog::AccessLog(int fd) : fd_(fd), id_(next_log_id.fetch_add(1)) {}

AccessLog::~AccessLog() { Flush(); }

AccessLog::Buffer& AccessLog::ThisThreadsBuffer() {
  thread_local std::uint64_t owner = 0;
  thread_local Buffer* buffer = nullptr;
  if (owner != id_) {
    auto fresh = std::make_unique<Buffer>();
    fresh->data.reserve(kBufferBytes + 512);
    std::lock_guard lock(registry_mu_);
    buffer = fresh.get();
    buffers_.push_back(std::move(fresh));
    owner = id_;
  }
  return *buffer;
}

void AccessLog::Write(std::string_view line) {
  auto now = std::chrono::system_clock::now().time_since_epoch();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now).count();
  std::int64_t second = ms / 1000;
  Buffer& buffer = ThisThreadsBuffer();
  std::lock_guard lock(buffer.mu);
  if (buffer.second != second) {
    std::time_t t = static_cast<std::time_t>(second);
    std::tm tm{};
    gmtime_r(&t, &tm);
    std::strftime(buffer.stamp, sizeof buffer.stamp, "%Y-%m-%dT%H:%M:%S.", &tm);
    buffer.second = second;
  }
  buffer.data += buffer.stamp;
  fmt::format_to(std::back_inserter(buffer.data), "{:03d}Z ", ms % 1000);
  buffer.data += line;
  buffer.data += '\n';
  if (buffer.data.size() >= kBufferBytes) {
    WriteOut(buffer.data);
  }
}

void AccessLog::Flush() {
  std::lock_guard registry(registry_mu_);
  for (auto& buffer : buffers_) {
    std::lock_guard lock(buffer->mu);
    WriteOut(buffer->data);
  }
}

void AccessLog::WriteOut(std::string& data) {
  std::lock_guard lock(write_mu_);
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd_, data.data() + done, data.size() - done);
    if (n <= 0) {
      break;  // nowhere to log to: drop the lines rather than block requests
    }
    done += static_cast<std::size_t>(n);
  }
  data.clear();
}

void AppendLogEscaped(std::string_view field, std::string& out) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (char c : field) {
    auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7f && c != '"' && c != '\\') {
      out.push_back(c);
      continue;
    }
    out += "\\x";
    out.push_back(kHex[u >> 4]);
    out.push_back(kHex[u & 0xf]);
  }
}

}  // namespace pipy::http
