#include "catalog/sqlite_db.h"

#include <chrono>
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
  std::unique_ptr<Connection> conn(new Connection(db));
  sqlite3_busy_timeout(db, kBusyTimeoutMs);
  // Durability: "an acknowledged upload is never lost" must hold across a power loss, not only
  // a process crash. With WAL, synchronous=NORMAL skips the fsync at commit and syncs the WAL
  // only at checkpoints, so the last transactions acknowledged before a power loss can
  // disappear (the database stays consistent, but the row is gone while the client saw 200).
  // FULL fsyncs the WAL on every commit: one fsync per AddFile, the same order of cost as the
  // blob's own fsync, which keeps ~1,000 uploads/s on an SSD. Hence FULL.
  PIPY_RETURN_IF_ERROR(conn->Exec("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;"));
  return conn;
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

Status Transaction::Commit() {
  Status s = conn_->Exec("COMMIT");
  if (!s.ok() && !conn_->InAutocommit()) {
    (void)conn_->Exec("ROLLBACK");
  }
  conn_ = nullptr;
  return s;
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
