// The access log: one line per request. Logging must not dominate the throughput of small
// cached pages, so each I/O thread appends to a buffer of its own (an uncontended lock) and
// buffers are written out whole when full and by Flush() (the server flushes every second
// and when it stops): lines of one thread stay in order, and no line is ever split.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace pipy::http {

class AccessLog {
 public:
  // Writes to `fd` (not owned), e.g. 1 for stdout.
  explicit AccessLog(int fd);
  ~AccessLog();  // flushes
  AccessLog(const AccessLog&) = delete;
  AccessLog& operator=(const AccessLog&) = delete;

  // Appends "<UTC time with milliseconds> <line>\n". Thread-safe.
  void Write(std::string_view line);
  // Writes out every thread's buffer. Thread-safe.
  void Flush();

 private:
  struct Buffer {
    std::mutex mu;
    std::string data;
    std::int64_t second = -1;  // the second `stamp` was formatted for
    char stamp[24] = {};       // "YYYY-MM-DDTHH:MM:SS." of `second`
  };
  Buffer& ThisThreadsBuffer();
  void WriteOut(std::string& data);

  const int fd_;
  const std::uint64_t id_;             // tells this log from a later one at the same address
  std::mutex registry_mu_;
  std::vector<std::unique_ptr<Buffer>> buffers_;
  std::mutex write_mu_;                // one write(2) of whole lines at a time
};

// Appends `field` to `out` as it may stand inside a quoted access-log field: printable
// ASCII as is, except '"' and '\\', and every other byte (control characters, bytes >= 0x7f)
// as \\xHH. A client can then neither end the field, nor forge a line, nor send escape
// sequences to an operator's terminal.
void AppendLogEscaped(std::string_view field, std::string& out);

}  // namespace pipy::http
