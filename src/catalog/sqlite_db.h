// Thin RAII helpers over the SQLite C API used by SqliteCatalog: a connection with a cache of
// prepared statements, a borrowed statement that resets itself, an IMMEDIATE transaction, a
// small connection pool and the group commit of the write-ahead log. Nothing here knows the
// catalog's schema.
#pragma once

#include <sqlite3.h>

#include <sys/types.h>

#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/status.h"

namespace pipy::catalog::sqlite {

// Maps a SQLite result code to a Status naming `what` and SQLite's message: BUSY/LOCKED
// (after the busy timeout), CANTOPEN, IOERR, FULL, READONLY and PROTOCOL are kUnavailable,
// CORRUPT and NOTADB kDataLoss, the rest kInternal.
Status SqliteStatus(int rc, sqlite3* db, std::string_view what);

// True for SQLITE_CONSTRAINT (a UNIQUE or foreign key violation).
bool IsConstraintViolation(const Status& status);

// A prepared statement borrowed from a Connection's cache. Parameters are 1-based, columns
// 0-based. Resets and clears its bindings when destroyed, so the cache can hand it out again.
class Statement {
 public:
  Statement(sqlite3_stmt* stmt, sqlite3* db) : stmt_(stmt), db_(db) {}
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&&) = delete;
  Statement(const Statement&) = delete;
  ~Statement();

  Statement& Bind(int index, std::string_view text);
  Statement& Bind(int index, std::int64_t value);

  // Advances to the next row: true when a row is ready, false when done.
  Result<bool> Step();
  // Steps to the end, for statements without results.
  Status Run();

  std::string Text(int column) const;
  std::int64_t Int(int column) const;

 private:
  sqlite3_stmt* stmt_;
  sqlite3* db_;
  int bind_error_ = SQLITE_OK;
};

// Group commit of a database's write-ahead log. Connections run with synchronous=NORMAL:
// a COMMIT appends its frames to the log and returns without an fsync. A writer that must
// be durable before it answers then calls Sync(), and one fdatasync of the log covers every
// commit that finished before that fdatasync began: concurrent writers share one flush
// instead of queueing for one each behind the write lock. Thread-safe; one per database
// file in the process (For), shared by its connections.
class LogSync {
 public:
  static std::shared_ptr<LogSync> For(const std::filesystem::path& db_path);
  // `flush` replaces the fdatasync (tests).
  explicit LogSync(std::filesystem::path db_path, std::function<Status()> flush = nullptr);
  ~LogSync();
  LogSync(const LogSync&) = delete;
  LogSync& operator=(const LogSync&) = delete;

  // Returns once every commit that finished before the call is on stable storage.
  Status Sync();
  // fdatasync calls made so far (for tests: concurrent Syncs share them).
  std::uint64_t flushes() const;

 private:
  // fdatasync of the log (of the database file itself when there is no log); only the
  // one thread that set syncing_ runs it.
  Status Flush();

  const std::filesystem::path db_path_;
  const std::filesystem::path log_path_;
  const std::function<Status()> flush_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::uint64_t requested_ = 0;  // Sync calls so far (each after its commit)
  std::uint64_t synced_ = 0;     // every Sync call up to this number is covered
  bool syncing_ = false;
  std::uint64_t flushes_ = 0;
  // The open log, reopened when the file at log_path_ is another one (the log is removed
  // when the last connection closes and made anew by the next). Touched by Flush only.
  int fd_ = -1;
  dev_t dev_ = 0;
  ino_t ino_ = 0;
};

class Connection {
 public:
  // Opens `path` (creating it when missing) with foreign keys on, a 5 s busy timeout and
  // synchronous=NORMAL, with the database's LogSync for the commits that must be durable
  // (see the .cc for why).
  static Result<std::unique_ptr<Connection>> Open(const std::filesystem::path& path);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // The cached prepared statement for `sql`, reset and unbound. Only one Statement for a
  // given `sql` may be alive at a time on one connection.
  Result<Statement> Prepare(std::string_view sql);
  // Runs one or more statements, discarding any rows.
  Status Exec(std::string_view sql);
  // Rows changed by the last INSERT/UPDATE/DELETE.
  std::int64_t Changes() const;
  // True when no transaction is open.
  bool InAutocommit() const;
  // Makes every commit of this database so far durable (LogSync::Sync): after a write
  // outside a Transaction that must survive a power loss.
  Status SyncLog();

  sqlite3* db() const { return db_; }

 private:
  Connection(sqlite3* db, std::shared_ptr<LogSync> log) : db_(db), log_(std::move(log)) {}

  sqlite3* db_;
  std::shared_ptr<LogSync> log_;
  std::unordered_map<std::string, sqlite3_stmt*> statements_;
};

// BEGIN IMMEDIATE ... COMMIT; rolls back when destroyed uncommitted. IMMEDIATE takes the
// write lock up front, so a transaction never fails half-way with SQLITE_BUSY when it
// upgrades from reading to writing.
class Transaction {
 public:
  // Begins, waiting for the write lock up to the busy timeout, and retrying a few times more.
  static Result<Transaction> Begin(Connection& conn);
  Transaction(Transaction&& other) noexcept : conn_(other.conn_) { other.conn_ = nullptr; }
  Transaction& operator=(Transaction&&) = delete;
  ~Transaction();

  // On failure the transaction is rolled back at once (the connection is then in autocommit
  // mode, unless even the rollback failed). A failed COMMIT is not always a commit that did
  // not happen: SQLite can report a full disk after the commit reached the log, so a caller
  // that must know looks for what it wrote (see AddFile). A commit that succeeded is then
  // made durable (Connection::SyncLog) before Commit returns.
  Status Commit();
  // COMMIT without waiting for durability: the commit reaches stable storage with the next
  // sync or checkpoint (a power loss may lose it). For records that may be lost, or for a
  // caller that syncs itself.
  Status CommitUnsynced();

 private:
  explicit Transaction(Connection* conn) : conn_(conn) {}

  Connection* conn_;
};

// Hands out connections, one per concurrent caller, keeping up to `max_idle` open between
// uses. Thread-safe.
class ConnectionPool {
 public:
  struct Returner {
    ConnectionPool* pool;
    void operator()(Connection* conn) const { pool->Release(conn); }
  };
  using Lease = std::unique_ptr<Connection, Returner>;

  ConnectionPool(std::filesystem::path path, std::size_t max_idle)
      : path_(std::move(path)), max_idle_(max_idle) {}
  ~ConnectionPool();

  // Adds an already open connection to the idle list.
  void Seed(std::unique_ptr<Connection> conn);
  Result<Lease> Acquire();

 private:
  void Release(Connection* conn);

  const std::filesystem::path path_;
  const std::size_t max_idle_;
  std::mutex mu_;
  std::vector<Connection*> idle_;  // guarded by mu_
};

}  // namespace pipy::catalog::sqlite
