// Test helpers for the PostgreSQL catalog: each test works in a fresh schema of the test
// database (started by the ctest fixture "postgres"; URL in PIPY_TEST_POSTGRES_URL).
#pragma once

#include <string>

namespace pipy::catalog::pgtest {

// The test database's URL: PIPY_TEST_POSTGRES_URL, else the fixture's default.
std::string BaseUrl();

// A URL whose search_path is a new, empty schema of the test database (dropped when the
// test binary exits). Empty after ADD_FAILURE when the database cannot be reached.
std::string FreshSchemaUrl();

// Adds `key=value` to a libpq URL (as a query parameter).
std::string WithParam(const std::string& url, const std::string& key, const std::string& value);

// Runs `sql` over a raw libpq connection, as another tool would; returns the first column of
// the first row ("" when none), or "ERROR: ..." on failure.
std::string Query(const std::string& url, const std::string& sql);

// Runs tests/services/postgres.sh ACTION PORT; returns its exit status.
int Service(const std::string& action, int port);

}  // namespace pipy::catalog::pgtest
