#include "catalog/postgres_db.h"

#include <cstdlib>
#include <thread>

namespace pipy::catalog::pg {

namespace {

// libpq's messages span lines ("...failed: Connection refused\n\tIs the server running...");
// a Status message is one line.
std::string OneLine(std::string_view text) {
  std::string out;
  bool space = false;
  for (char c : text) {
    if (c == '\n' || c == '\r' || c == '\t' || c == ' ') {
      space = !out.empty();
      continue;
    }
    if (space) {
      out += ' ';
      space = false;
    }
    out += c;
  }
  return out;
}

std::string OptionValue(const PQconninfoOption* options, std::string_view keyword) {
  for (const PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (keyword == o->keyword && o->val != nullptr) {
      return o->val;
    }
  }
  return "";
}

// Drops the server's NOTICE messages ("relation already exists, skipping"), which libpq
// would otherwise print on stderr.
void IgnoreNotice(void*, const char*) {}

std::string ParamText(const Param& param) {
  if (const auto* text = std::get_if<std::string_view>(&param)) {
    return std::string(*text);
  }
  if (const auto* number = std::get_if<std::int64_t>(&param)) {
    return std::to_string(*number);
  }
  return std::get<bool>(param) ? "true" : "false";
}

}  // namespace

Result<ConnectSettings> ConnectSettings::Parse(std::string_view url) {
  if (url.empty()) {
    return InvalidArgument("no PostgreSQL URL configured");
  }
  ConnectSettings settings;
  settings.url_ = std::string(url);
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(settings.url_.c_str(), &error);
  if (options == nullptr) {
    std::string reason = error != nullptr ? OneLine(error) : "out of memory";
    PQfreemem(error);
    return InvalidArgument("the PostgreSQL URL is invalid: " + reason);
  }
  std::string db = OptionValue(options, "dbname");
  std::string host = OptionValue(options, "host");
  if (host.empty()) {
    host = OptionValue(options, "hostaddr");
  }
  std::string port = OptionValue(options, "port");
  std::string user = OptionValue(options, "user");
  PQconninfoFree(options);
  settings.description_ = "database \"" + (db.empty() ? user : db) + "\" on " +
                          (host.empty() ? "the local socket" : host) +
                          (port.empty() ? "" : ":" + port) +
                          (user.empty() ? "" : " as user \"" + user + "\"");
  return settings;
}

std::string Rows::Text(int row, int column) const {
  return PQgetvalue(result_.get(), row, column);
}

std::int64_t Rows::Int(int row, int column) const {
  return std::strtoll(PQgetvalue(result_.get(), row, column), nullptr, 10);
}

bool Rows::Bool(int row, int column) const {
  return PQgetvalue(result_.get(), row, column)[0] == 't';
}

bool Rows::IsNull(int row, int column) const {
  return PQgetisnull(result_.get(), row, column) != 0;
}

std::int64_t Rows::Affected() const {
  return std::strtoll(PQcmdTuples(result_.get()), nullptr, 10);
}

Result<std::unique_ptr<Connection>> Connection::Open(const ConnectSettings& settings) {
  // Pipy's defaults come first: the expanded URL ("dbname") overrides any of them. The
  // keepalives and tcp_user_timeout bound how long a call can hang on a vanished server.
  const char* keywords[] = {"connect_timeout",     "keepalives",       "keepalives_idle",
                            "keepalives_interval", "keepalives_count", "tcp_user_timeout",
                            "application_name",    "dbname",           nullptr};
  const char* values[] = {"5", "1", "10", "5", "3", "15000", "pipy", settings.url().c_str(),
                          nullptr};
  PGconn* conn = PQconnectdbParams(keywords, values, /*expand_dbname=*/1);
  if (conn == nullptr) {
    return Unavailable("cannot connect to PostgreSQL " + settings.description() +
                       ": out of memory");
  }
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string reason = OneLine(PQerrorMessage(conn));
    PQfinish(conn);
    return Unavailable("cannot connect to PostgreSQL " + settings.description() + ": " + reason);
  }
  PQsetNoticeProcessor(conn, &IgnoreNotice, nullptr);
  return std::unique_ptr<Connection>(new Connection(conn));
}

Connection::~Connection() { PQfinish(conn_); }

bool Connection::broken() const { return PQstatus(conn_) != CONNECTION_OK; }

bool Connection::idle() const { return PQtransactionStatus(conn_) == PQTRANS_IDLE; }

bool IsRetryableSqlstate(std::string_view sqlstate) {
  return sqlstate == "40001" || sqlstate == "40P01";
}

Status Connection::Failure(const PGresult* result, std::string_view what) {
  const char* sqlstate =
      result != nullptr ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  last_sqlstate_ = sqlstate != nullptr ? sqlstate : "";
  const char* primary =
      result != nullptr ? PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
  std::string message =
      "PostgreSQL: " + OneLine(primary != nullptr ? primary : PQerrorMessage(conn_));
  if (message == "PostgreSQL: ") {
    message += std::string(what) + " failed";
  }
  std::string_view state = last_sqlstate_;
  // 08: connection exceptions; 57P01-03: admin/crash shutdown, cannot connect now;
  // 53: insufficient resources (too many connections, disk full).
  if (broken() || state.starts_with("08") || state.starts_with("57P") ||
      state.starts_with("53") || IsRetryableSqlstate(state)) {
    return Unavailable(message);
  }
  if (state == "23505") {
    return AlreadyExists(message);
  }
  if (state.starts_with("23") || state.starts_with("22")) {
    return InvalidArgument(message);
  }
  return Internal(message);
}

Result<Rows> Connection::Execute(std::string_view sql, std::initializer_list<Param> params) {
  last_sqlstate_.clear();
  auto it = statements_.find(std::string(sql));
  if (it == statements_.end()) {
    std::string name = "pipy_" + std::to_string(statements_.size() + 1);
    PGresult* prepared = PQprepare(conn_, name.c_str(), std::string(sql).c_str(), 0, nullptr);
    if (PQresultStatus(prepared) != PGRES_COMMAND_OK) {
      Status failure = Failure(prepared, "preparing a statement");
      PQclear(prepared);
      return failure;
    }
    PQclear(prepared);
    it = statements_.emplace(std::string(sql), std::move(name)).first;
  }
  std::vector<std::string> texts;
  texts.reserve(params.size());
  for (const Param& param : params) {
    texts.push_back(ParamText(param));
  }
  std::vector<const char*> values;
  values.reserve(texts.size());
  for (const std::string& text : texts) {
    values.push_back(text.c_str());
  }
  PGresult* result = PQexecPrepared(conn_, it->second.c_str(), static_cast<int>(values.size()),
                                    values.data(), nullptr, nullptr, 0);
  ExecStatusType status = PQresultStatus(result);
  if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
    Status failure = Failure(result, "a query");
    PQclear(result);
    return failure;
  }
  return Rows(result);
}

Status Connection::Exec(std::string_view sql) {
  last_sqlstate_.clear();
  PGresult* result = PQexec(conn_, std::string(sql).c_str());
  ExecStatusType status = PQresultStatus(result);
  if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
    Status failure = Failure(result, "a statement");
    PQclear(result);
    return failure;
  }
  PQclear(result);
  return Status::Ok();
}

ConnectionPool::Lease::~Lease() {
  if (conn_ != nullptr) {
    pool_->Release(std::move(conn_));
  }
}

Result<ConnectionPool::Lease> ConnectionPool::Acquire() {
  std::unique_lock lock(mu_);
  const auto deadline = std::chrono::steady_clock::now() + acquire_timeout_;
  for (;;) {
    if (!idle_.empty()) {
      std::unique_ptr<Connection> conn = std::move(idle_.back());
      idle_.pop_back();
      return Lease(this, std::move(conn));
    }
    if (open_ < size_) {
      ++open_;
      break;
    }
    if (freed_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty() &&
        open_ >= size_) {
      return Unavailable("all " + std::to_string(size_) + " connections to PostgreSQL " +
                         settings_.description() + " stayed busy; raise [catalog] pool_size");
    }
  }
  lock.unlock();
  auto conn = Connection::Open(settings_);
  if (!conn.has_value()) {
    lock.lock();
    --open_;
    freed_.notify_one();
    return conn.error();
  }
  return Lease(this, std::move(conn).value());
}

void ConnectionPool::Release(std::unique_ptr<Connection> conn) {
  if (conn->broken() || !conn->idle()) {
    conn.reset();  // closed outside the lock
    std::lock_guard lock(mu_);
    --open_;
    freed_.notify_one();
    return;
  }
  std::lock_guard lock(mu_);
  idle_.push_back(std::move(conn));
  freed_.notify_one();
}

void ConnectionPool::DropIdle() {
  std::vector<std::unique_ptr<Connection>> dropped;
  {
    std::lock_guard lock(mu_);
    dropped.swap(idle_);
    open_ -= dropped.size();
    freed_.notify_all();
  }
}

// Tries per call: a dead pooled connection, then a fresh one, then one more for a
// serialization failure or deadlock.
constexpr int kAttempts = 3;

Status ConnectionPool::Read(const std::function<Status(Connection&)>& fn) {
  Status last;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    PIPY_ASSIGN_OR_RETURN(Lease conn, Acquire());
    last = fn(*conn);
    if (last.ok() || !conn->broken()) {
      return last;
    }
    DropIdle();  // the server restarted or went away: the others are dead too
  }
  return last;
}

Status ConnectionPool::Write(const std::function<Status(Connection&)>& fn) {
  Status last;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    if (attempt > 0 && !last.ok() && last.code() == StatusCode::kUnavailable) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10 * attempt));
    }
    PIPY_ASSIGN_OR_RETURN(Lease conn, Acquire());
    last = conn->Exec("BEGIN");
    if (last.ok()) {
      last = fn(*conn);
      if (last.ok()) {
        last = conn->Exec("COMMIT");
        if (last.ok()) {
          return last;
        }
        if (conn->broken()) {
          DropIdle();
          return Unavailable(last.message() +
                             " (while committing: the change may or may not have been saved)");
        }
      }
    }
    const std::string sqlstate = conn->last_sqlstate();
    if (conn->broken()) {
      DropIdle();  // nothing was committed: retry on a fresh connection
      continue;
    }
    if (!conn->idle()) {
      (void)conn->Exec("ROLLBACK");
    }
    if (!IsRetryableSqlstate(sqlstate)) {
      return last;
    }
  }
  return last;
}

}  // namespace pipy::catalog::pg
