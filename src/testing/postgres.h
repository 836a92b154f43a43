// A PostgreSQL database for one test: a schema of its own on the server that `make test` starts
// (tests/with-postgres.sh exports its URL as BLUEGATE_TEST_DATABASE_URL), dropped afterwards.
#pragma once

#include <string>

namespace bluegate::testing {

class PostgresSchema {
 public:
  // Creates the schema. Throws std::runtime_error, saying how to get a server, when
  // BLUEGATE_TEST_DATABASE_URL is not set or the server cannot be reached.
  PostgresSchema();
  ~PostgresSchema();
  PostgresSchema(const PostgresSchema&) = delete;
  PostgresSchema& operator=(const PostgresSchema&) = delete;

  // A URL whose connections see only this schema.
  const std::string& url() const { return url_; }

 private:
  std::string server_url_;
  std::string name_;
  std::string url_;
};

}  // namespace bluegate::testing
