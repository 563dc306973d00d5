#include "catalog/postgres_test_util.h"

#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <mutex>
#include <vector>

namespace pipy::catalog::pgtest {
namespace {

// Drops the schemas this process created when it exits.
class Schemas : public ::testing::Environment {
 public:
  static void Add(std::string name) {
    std::lock_guard lock(mu());
    names().push_back(std::move(name));
  }
  void TearDown() override {
    std::lock_guard lock(mu());
    for (const std::string& name : names()) {
      Query(BaseUrl(), "DROP SCHEMA IF EXISTS " + name + " CASCADE");
    }
    names().clear();
  }

 private:
  static std::mutex& mu() {
    static std::mutex m;
    return m;
  }
  static std::vector<std::string>& names() {
    static std::vector<std::string> n;
    return n;
  }
};
[[maybe_unused]] auto* const kSchemas = ::testing::AddGlobalTestEnvironment(new Schemas);

}  // namespace

std::string BaseUrl() {
  const char* url = std::getenv("PIPY_TEST_POSTGRES_URL");
  return url != nullptr && *url != '\0' ? url : "postgresql://postgres@127.0.0.1:17432/pipy_test";
}

std::string WithParam(const std::string& url, const std::string& key, const std::string& value) {
  return url + (url.find('?') == std::string::npos ? "?" : "&") + key + "=" + value;
}

std::string Query(const std::string& url, const std::string& sql) {
  PGconn* conn = PQconnectdb(url.c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string error = std::string("ERROR: ") + PQerrorMessage(conn);
    PQfinish(conn);
    return error;
  }
  PQsetNoticeProcessor(conn, [](void*, const char*) {}, nullptr);
  PGresult* result = PQexec(conn, sql.c_str());
  std::string out;
  ExecStatusType status = PQresultStatus(result);
  if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
    out = std::string("ERROR: ") + PQresultErrorMessage(result);
  } else if (PQntuples(result) > 0 && PQnfields(result) > 0) {
    out = PQgetvalue(result, 0, 0);
  }
  PQclear(result);
  PQfinish(conn);
  return out;
}

std::string FreshSchemaUrl() {
  static std::atomic<int> counter{0};
  std::string name = "pipy_t" + std::to_string(::getpid()) + "_" +
                     std::to_string(counter.fetch_add(1));
  std::string result = Query(BaseUrl(), "CREATE SCHEMA " + name);
  if (result.starts_with("ERROR")) {
    ADD_FAILURE() << "cannot create a test schema in " << BaseUrl()
                  << " (ctest starts PostgreSQL through the \"postgres\" fixture; run "
                     "tests/services/postgres.sh start when running the binary alone): "
                  << result;
    return "";
  }
  Schemas::Add(name);
  // libpq decodes %3D: options = "-csearch_path=<name>".
  return WithParam(BaseUrl(), "options", "-csearch_path%3D" + name);
}

int Service(const std::string& action, int port) {
  std::string command = std::string(PIPY_SOURCE_DIR) + "/tests/services/postgres.sh " + action +
                        " " + std::to_string(port) + " >/dev/null";
  int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace pipy::catalog::pgtest
