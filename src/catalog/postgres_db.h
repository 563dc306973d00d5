// Thin RAII helpers over libpq used by PostgresCatalog: connection settings parsed once from the
// configured URL, a connection with lazily prepared statements, result rows, and a bounded
// connection pool that discards broken connections. Nothing here knows the catalog's schema.
//
// Errors: a lost connection, an administrator shutdown, "too many connections", a
// serialization failure or a deadlock are kUnavailable (a later retry may work); a
// unique_violation is kAlreadyExists; other constraint and data errors kInvalidArgument;
// the rest kInternal. Messages carry the server's text.
#pragma once

#include <libpq-fe.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

#include "core/status.h"

namespace pipy::catalog::pg {

// Connection settings: the configured URL (or keyword=value string) plus Pipy's defaults
// (connect_timeout=5 s, TCP keepalives, application_name=pipy), which the URL may override.
class ConnectSettings {
 public:
  // Parses `url` without connecting. kInvalidArgument when libpq cannot parse it (the
  // message does not repeat the URL, which may hold a password).
  static Result<ConnectSettings> Parse(std::string_view url);

  // `database "pipy" on 127.0.0.1:5432 as user "pipy"` — for messages; never the password.
  const std::string& description() const { return description_; }

  const std::string& url() const { return url_; }

 private:
  std::string url_;
  std::string description_;
};

// Query parameters: text, integers and booleans, sent in PostgreSQL's text format.
using Param = std::variant<std::string_view, std::int64_t, bool>;

// The rows of one result. Columns are 0-based; values are read in text format.
class Rows {
 public:
  explicit Rows(PGresult* result) : result_(result, &PQclear) {}

  int size() const { return PQntuples(result_.get()); }
  bool empty() const { return size() == 0; }
  std::string Text(int row, int column) const;
  std::int64_t Int(int row, int column) const;
  bool Bool(int row, int column) const;
  bool IsNull(int row, int column) const;
  // Rows changed by an INSERT/UPDATE/DELETE.
  std::int64_t Affected() const;

 private:
  std::unique_ptr<PGresult, void (*)(PGresult*)> result_;
};

class Connection {
 public:
  // Connects, waiting at most the connect timeout. kUnavailable naming the database and
  // carrying libpq's reason when it cannot connect (unreachable, wrong password, no such
  // database).
  static Result<std::unique_ptr<Connection>> Open(const ConnectSettings& settings);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs `sql` as a prepared statement (prepared on this connection at its first use) with
  // `params` ($1, $2, ...).
  Result<Rows> Execute(std::string_view sql, std::initializer_list<Param> params = {});
  // Runs one or more statements without parameters (the simple query protocol).
  Status Exec(std::string_view sql);

  // The SQLSTATE of the last failed call ("23505"), empty when it succeeded or had none.
  const std::string& last_sqlstate() const { return last_sqlstate_; }
  // True when the connection is unusable (lost, or shut down by the server).
  bool broken() const;
  // True when no transaction is open.
  bool idle() const;

  PGconn* raw() const { return conn_; }

 private:
  explicit Connection(PGconn* conn) : conn_(conn) {}
  Status Failure(const PGresult* result, std::string_view what);

  PGconn* conn_;
  std::unordered_map<std::string, std::string> statements_;  // sql -> prepared name
  std::string last_sqlstate_;
};

// True for SQLSTATEs worth retrying the whole transaction for: serialization failure and
// deadlock.
bool IsRetryableSqlstate(std::string_view sqlstate);

// Hands out up to `size` connections at once, opening them when needed and keeping them
// open between uses; a broken connection is dropped on return and replaced by a new one
// later, so the pool heals by itself when the server comes back. Thread-safe.
class ConnectionPool {
 public:
  class Lease {
   public:
    Lease(ConnectionPool* pool, std::unique_ptr<Connection> conn)
        : pool_(pool), conn_(std::move(conn)) {}
    Lease(Lease&& other) noexcept = default;
    Lease& operator=(Lease&&) = delete;
    ~Lease();
    Connection& operator*() { return *conn_; }
    Connection* operator->() { return conn_.get(); }

   private:
    ConnectionPool* pool_;
    std::unique_ptr<Connection> conn_;
  };

  ConnectionPool(ConnectSettings settings, std::size_t size,
                 std::chrono::milliseconds acquire_timeout = std::chrono::seconds(10))
      : settings_(std::move(settings)), size_(size), acquire_timeout_(acquire_timeout) {}

  // An idle connection, or a new one while fewer than `size` are out. kUnavailable when
  // connecting fails or no connection frees up within the acquire timeout.
  Result<Lease> Acquire();
  // Closes every idle connection: called after a connection was found broken, since the
  // others most likely died with it (a server restart).
  void DropIdle();

  // Runs `fn` (reads, no transaction) on a pooled connection; retried on a fresh connection
  // when a pooled one turns out to be dead. `fn` may run more than once.
  Status Read(const std::function<Status(Connection&)>& fn);
  // Runs `fn` between BEGIN and COMMIT, rolled back when it fails. Retried on a fresh
  // connection when the connection broke before COMMIT (nothing was committed), and up to
  // three times in all on a serialization failure or deadlock; `fn` may run more than once.
  Status Write(const std::function<Status(Connection&)>& fn);

  const ConnectSettings& settings() const { return settings_; }

 private:
  void Release(std::unique_ptr<Connection> conn);

  const ConnectSettings settings_;
  const std::size_t size_;
  const std::chrono::milliseconds acquire_timeout_;
  std::mutex mu_;
  std::condition_variable freed_;
  std::vector<std::unique_ptr<Connection>> idle_;  // guarded by mu_
  std::size_t open_ = 0;                           // idle + leased + connecting; by mu_
};

}  // namespace pipy::catalog::pg
