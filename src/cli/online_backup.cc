#include "cli/online_backup.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <system_error>
#include <thread>

namespace pipy::cli {

namespace {

// Closes a connection when it goes out of scope.
struct Db {
  sqlite3* db = nullptr;
  ~Db() {
    if (db != nullptr) {
      sqlite3_close_v2(db);
    }
  }
};

Status SqliteError(sqlite3* db, int rc, const std::string& what) {
  std::string message = what + ": " + (db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  return Unavailable(std::move(message));
}

constexpr int kBusyTimeoutMs = 5000;
// A step that finds the source or destination locked is retried this often, 10 ms apart.
constexpr int kMaxBusyRetries = 1000;

}  // namespace

Status OnlineBackup(const std::filesystem::path& source, const std::filesystem::path& dest,
                    int pages_per_step, const std::function<void()>& between_steps) {
  std::error_code ec;
  if (!std::filesystem::exists(source, ec)) {
    return NotFound("no catalog database at " + source.string());
  }
  if (std::filesystem::exists(dest, ec)) {
    return AlreadyExists(dest.string() + " already exists");
  }
  Db src;
  // Read-write without CREATE: a WAL reader needs the -shm file, and a missing source must
  // not become an empty database.
  int rc = sqlite3_open_v2(source.c_str(), &src.db, SQLITE_OPEN_READWRITE, nullptr);
  if (rc != SQLITE_OK) {
    return SqliteError(src.db, rc, "cannot open " + source.string());
  }
  sqlite3_busy_timeout(src.db, kBusyTimeoutMs);
  // The snapshot: reading sqlite_schema inside BEGIN starts the read transaction that every
  // step below then reads from.
  rc =
      sqlite3_exec(src.db, "BEGIN; SELECT count(*) FROM sqlite_schema;", nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) {
    return SqliteError(src.db, rc, "cannot start a read snapshot of " + source.string());
  }
  Db dst;
  rc = sqlite3_open_v2(dest.c_str(), &dst.db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  if (rc != SQLITE_OK) {
    return SqliteError(dst.db, rc, "cannot create " + dest.string());
  }
  sqlite3_busy_timeout(dst.db, kBusyTimeoutMs);
  sqlite3_backup* backup = sqlite3_backup_init(dst.db, "main", src.db, "main");
  if (backup == nullptr) {
    return SqliteError(dst.db, SQLITE_ERROR, "cannot start the backup of " + source.string());
  }
  int busy_retries = 0;
  while (true) {
    rc = sqlite3_backup_step(backup, pages_per_step);
    if (rc == SQLITE_DONE) {
      break;
    }
    if (rc == SQLITE_OK) {
      if (between_steps) {
        between_steps();
      }
      continue;
    }
    if ((rc == SQLITE_BUSY || rc == SQLITE_LOCKED) && ++busy_retries < kMaxBusyRetries) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      continue;
    }
    break;
  }
  // finish reports the step's error, if any, on the destination connection.
  sqlite3_backup_finish(backup);
  if (rc != SQLITE_DONE) {
    Status failed = SqliteError(dst.db, rc, "backup of " + source.string() + " failed");
    sqlite3_close_v2(dst.db);
    dst.db = nullptr;
    std::filesystem::remove(dest, ec);
    return failed;
  }
  sqlite3_exec(src.db, "COMMIT", nullptr, nullptr, nullptr);
  rc = sqlite3_close(dst.db);
  dst.db = nullptr;
  if (rc != SQLITE_OK) {
    return SqliteError(nullptr, rc, "cannot close " + dest.string());
  }
  // SQLite syncs at the end of the copy as it commits; this also covers synchronous=OFF
  // builds and makes the file's own metadata durable.
  int fd = ::open(dest.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 || ::fsync(fd) != 0) {
    if (fd >= 0) {
      ::close(fd);
    }
    return Unavailable("cannot fsync " + dest.string());
  }
  ::close(fd);
  return Status::Ok();
}

}  // namespace pipy::cli
