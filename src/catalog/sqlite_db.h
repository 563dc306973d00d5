// Thin RAII helpers over the SQLite C API used by SqliteCatalog: a connection with a cache of
// prepared statements, a borrowed statement that resets itself, an IMMEDIATE transaction and a
// small connection pool. Nothing here knows the catalog's schema.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <filesystem>
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

class Connection {
 public:
  // Opens `path` (creating it when missing) with foreign keys on, a 5 s busy timeout and
  // synchronous=FULL (see the .cc for why).
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

  sqlite3* db() const { return db_; }

 private:
  explicit Connection(sqlite3* db) : db_(db) {}

  sqlite3* db_;
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
  // that must know looks for what it wrote (see AddFile).
  Status Commit();

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
