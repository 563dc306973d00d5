#include "catalog/sqlite_db.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>
#include <thread>

namespace pipy::catalog::sqlite {
namespace {

constexpr int kBusyTimeoutMs = 5000;
constexpr int kBeginAttempts = 3;

}  // namespace

Status SqliteStatus(int rc, sqlite3* db, std::string_view what) {
  std::string m = "catalog: " + std::string(what) + ": ";
  m += (db != nullptr) ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_CANTOPEN:
    case SQLITE_IOERR:
    case SQLITE_READONLY:
    case SQLITE_PROTOCOL:
      return Unavailable(std::move(m));
    case SQLITE_FULL:
      return InsufficientStorage(std::move(m));
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return DataLoss(std::move(m));
    case SQLITE_CONSTRAINT:
      // Recognized by IsConstraintViolation; callers translate it to kAlreadyExists.
      return AlreadyExists("constraint: " + m);
    default:
      return Internal(std::move(m));
  }
}

bool IsConstraintViolation(const Status& status) {
  return status.code() == StatusCode::kAlreadyExists &&
         status.message().starts_with("constraint: ");
}

Statement::Statement(Statement&& other) noexcept
    : stmt_(other.stmt_), db_(other.db_), bind_error_(other.bind_error_) {
  other.stmt_ = nullptr;
}

Statement::~Statement() {
  if (stmt_ != nullptr) {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
}

Statement& Statement::Bind(int index, std::string_view text) {
  // A default-constructed string_view has a null data(), which SQLite would bind as NULL.
  const char* data = text.data() != nullptr ? text.data() : "";
  int rc = sqlite3_bind_text(stmt_, index, data, static_cast<int>(text.size()), SQLITE_TRANSIENT);
  if (rc != SQLITE_OK && bind_error_ == SQLITE_OK) {
    bind_error_ = rc;
  }
  return *this;
}

Statement& Statement::Bind(int index, std::int64_t value) {
  int rc = sqlite3_bind_int64(stmt_, index, value);
  if (rc != SQLITE_OK && bind_error_ == SQLITE_OK) {
    bind_error_ = rc;
  }
  return *this;
}

Result<bool> Statement::Step() {
  if (bind_error_ != SQLITE_OK) {
    return SqliteStatus(bind_error_, db_, "binding a parameter");
  }
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) {
    return true;
  }
  if (rc == SQLITE_DONE) {
    return false;
  }
  return SqliteStatus(rc, db_, sqlite3_sql(stmt_));
}

Status Statement::Run() {
  for (;;) {
    PIPY_ASSIGN_OR_RETURN(bool row, Step());
    if (!row) {
      return Status::Ok();
    }
  }
}

std::string Statement::Text(int column) const {
  const unsigned char* text = sqlite3_column_text(stmt_, column);
  if (text == nullptr) {
    return {};
  }
  return std::string(reinterpret_cast<const char*>(text),
                     static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column)));
}

std::int64_t Statement::Int(int column) const { return sqlite3_column_int64(stmt_, column); }

Result<std::unique_ptr<Connection>> Connection::Open(const std::filesystem::path& path) {
  sqlite3* db = nullptr;
  // NOMUTEX: a connection is used by one thread at a time (the pool hands it out).
  int rc = sqlite3_open_v2(
      path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    Status s = SqliteStatus(rc, db, "cannot open " + path.string());
    sqlite3_close(db);
    return s;
  }
  sqlite3_busy_timeout(db, kBusyTimeoutMs);
  std::unique_ptr<Connection> conn(new Connection(db, LogSync::For(path)));
  // Durability: "an acknowledged upload is never lost" must hold across a power loss, not only
  // a process crash. With WAL, synchronous=NORMAL skips the fsync at commit and syncs the log
  // only at checkpoints; FULL fsyncs it at every commit, each commit waiting for its own
  // flush behind the write lock, so concurrent uploads could not commit faster than one
  // flush each. NORMAL plus LogSync after the commits that must be durable keeps FULL's
  // guarantee for them (the flush precedes the answer) and lets concurrent commits share a
  // flush (group commit); the database stays consistent either way.
  PIPY_RETURN_IF_ERROR(conn->Exec("PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;"));
  return conn;
}

Status Connection::SyncLog() { return log_->Sync(); }

std::shared_ptr<LogSync> LogSync::For(const std::filesystem::path& db_path) {
  static std::mutex mu;
  static std::map<std::string, std::weak_ptr<LogSync>> registry;
  std::error_code ec;
  std::filesystem::path key = std::filesystem::absolute(db_path, ec);
  if (ec) {
    key = db_path;
  }
  std::lock_guard<std::mutex> lock(mu);
  std::weak_ptr<LogSync>& slot = registry[key.string()];
  if (auto existing = slot.lock()) {
    return existing;
  }
  auto made = std::make_shared<LogSync>(key);
  slot = made;
  return made;
}

LogSync::LogSync(std::filesystem::path db_path, std::function<Status()> flush)
    : db_path_(std::move(db_path)), log_path_(db_path_.string() + "-wal"), flush_(std::move(flush)) {}

LogSync::~LogSync() {
  if (fd_ >= 0) {
    ::close(fd_);
  }
}

std::uint64_t LogSync::flushes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return flushes_;
}

Status LogSync::Sync() {
  std::unique_lock<std::mutex> lock(mu_);
  const std::uint64_t mine = ++requested_;
  while (synced_ < mine) {
    if (syncing_) {
      cv_.wait(lock);  // a flush that may have begun before this commit: wait, then look
      continue;
    }
    syncing_ = true;
    const std::uint64_t covers = requested_;  // every commit counted so far has finished
    ++flushes_;
    lock.unlock();
    Status flushed = Flush();
    lock.lock();
    syncing_ = false;
    if (flushed.ok()) {
      synced_ = std::max(synced_, covers);
    }
    cv_.notify_all();
    if (!flushed.ok()) {
      return flushed;  // the waiters try again with a flush of their own
    }
  }
  return Status::Ok();
}

Status LogSync::Flush() {
  if (flush_) {
    return flush_();
  }
  struct stat now {};
  const std::filesystem::path* target = &log_path_;
  if (::stat(log_path_.c_str(), &now) != 0) {
    if (errno != ENOENT) {
      return Unavailable("catalog: cannot stat " + log_path_.string() + ": " +
                         std::strerror(errno));
    }
    // No log (not in WAL mode): the database file holds every commit.
    target = &db_path_;
    if (::stat(db_path_.c_str(), &now) != 0) {
      return Unavailable("catalog: cannot stat " + db_path_.string() + ": " +
                         std::strerror(errno));
    }
  }
  if (fd_ < 0 || now.st_dev != dev_ || now.st_ino != ino_) {
    if (fd_ >= 0) {
      ::close(fd_);
      fd_ = -1;
    }
    int fd = ::open(target->c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      return Unavailable("catalog: cannot open " + target->string() + ": " +
                         std::strerror(errno));
    }
    fd_ = fd;
    dev_ = now.st_dev;
    ino_ = now.st_ino;
  }
  // fdatasync acts on the file, whichever descriptor names it: SQLite's frames written
  // through its own descriptor are flushed by this one.
  if (::fdatasync(fd_) != 0) {
    const int err = errno;
    ::close(fd_);
    fd_ = -1;
    return err == ENOSPC ? InsufficientStorage("catalog: cannot sync " + target->string() +
                                               ": " + std::strerror(err))
                         : Unavailable("catalog: cannot sync " + target->string() + ": " +
                                       std::strerror(err));
  }
  return Status::Ok();
}

Connection::~Connection() {
  for (auto& [sql, stmt] : statements_) {
    sqlite3_finalize(stmt);
  }
  sqlite3_close(db_);
}

Result<Statement> Connection::Prepare(std::string_view sql) {
  auto it = statements_.find(std::string(sql));
  if (it != statements_.end()) {
    return Statement(it->second, db_);
  }
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) {
    return SqliteStatus(rc, db_, "preparing " + std::string(sql.substr(0, 60)));
  }
  statements_.emplace(std::string(sql), stmt);
  return Statement(stmt, db_);
}

Status Connection::Exec(std::string_view sql) {
  std::string copy(sql);  // sqlite3_exec needs a NUL-terminated string
  int rc = sqlite3_exec(db_, copy.c_str(), nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) {
    return SqliteStatus(rc, db_, copy.substr(0, 60));
  }
  return Status::Ok();
}

std::int64_t Connection::Changes() const { return sqlite3_changes64(db_); }

bool Connection::InAutocommit() const { return sqlite3_get_autocommit(db_) != 0; }

Result<Transaction> Transaction::Begin(Connection& conn) {
  Status status;
  for (int attempt = 0; attempt < kBeginAttempts; ++attempt) {
    // Each attempt already waited up to the busy timeout inside SQLite's busy handler.
    status = conn.Exec("BEGIN IMMEDIATE");
    if (status.ok()) {
      return Transaction(&conn);
    }
    if (status.code() != StatusCode::kUnavailable ||
        (sqlite3_errcode(conn.db()) & 0xff) != SQLITE_BUSY) {
      return status;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10 << attempt));
  }
  return status;
}

Transaction::~Transaction() {
  if (conn_ != nullptr && !conn_->InAutocommit()) {
    (void)conn_->Exec("ROLLBACK");
  }
}

Status Transaction::CommitUnsynced() {
  Status s = conn_->Exec("COMMIT");
  if (!s.ok() && !conn_->InAutocommit()) {
    (void)conn_->Exec("ROLLBACK");
  }
  conn_ = nullptr;
  return s;
}

Status Transaction::Commit() {
  Connection* conn = conn_;
  PIPY_RETURN_IF_ERROR(CommitUnsynced());
  return conn->SyncLog();
}

ConnectionPool::~ConnectionPool() {
  for (Connection* conn : idle_) {
    delete conn;
  }
}

void ConnectionPool::Seed(std::unique_ptr<Connection> conn) { Release(conn.release()); }

Result<ConnectionPool::Lease> ConnectionPool::Acquire() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!idle_.empty()) {
      Connection* conn = idle_.back();
      idle_.pop_back();
      return Lease(conn, Returner{this});
    }
  }
  PIPY_ASSIGN_OR_RETURN(std::unique_ptr<Connection> conn, Connection::Open(path_));
  return Lease(conn.release(), Returner{this});
}

void ConnectionPool::Release(Connection* conn) {
  if (!conn->InAutocommit()) {
    // A caller bailed out mid-transaction (e.g. COMMIT failed): never hand that on.
    (void)conn->Exec("ROLLBACK");
  }
  if (!conn->InAutocommit()) {
    // Even the rollback failed (a full disk): pooled, the open transaction would keep the
    // write lock and show its uncommitted rows to the connection's next reader. Closing
    // rolls it back.
    delete conn;
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (idle_.size() < max_idle_) {
      idle_.push_back(conn);
      return;
    }
  }
  delete conn;
}

}  // namespace pipy::catalog::sqlite
