#include "testing/postgres.h"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <stdexcept>

#include "store/postgres/postgres_db.h"

namespace bluegate::testing {

PostgresSchema::PostgresSchema() {
  const char* server = std::getenv("BLUEGATE_TEST_DATABASE_URL");
  if (!server || !*server) {
    throw std::runtime_error(
        "BLUEGATE_TEST_DATABASE_URL is not set: run the tests with `make test` (or "
        "tests/with-postgres.sh <command>), which starts a PostgreSQL server for them");
  }
  server_url_ = server;
  static std::atomic<int> counter{0};
  name_ = "t" + std::to_string(getpid()) + "_" + std::to_string(counter++);
  auto db = store::OpenPostgresDb(server_url_);
  db->Exec("DROP SCHEMA IF EXISTS " + name_ + " CASCADE; CREATE SCHEMA " + name_);
  url_ = server_url_ + (server_url_.find('?') == std::string::npos ? "?" : "&") +
         "options=-csearch_path%3D" + name_;
}

PostgresSchema::~PostgresSchema() {
  try {
    store::OpenPostgresDb(server_url_)->Exec("DROP SCHEMA IF EXISTS " + name_ + " CASCADE");
  } catch (...) {
    // The server is gone (the test script tears it down with everything in it).
  }
}

}  // namespace bluegate::testing
