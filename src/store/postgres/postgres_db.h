// PostgreSQL behind the store's Db interface (store/sql/db.h), over libpq: statements are prepared
// on the server once per connection and run with text parameters; SQLite's `?`/`?N` placeholders
// become `$N`.
#pragma once

#include <memory>
#include <span>
#include <string>

#include "store/sql/db.h"

namespace bluegate::store {

// Connects to `url` (postgresql://user:password@host:port/database?...). Throws DbError (kind
// kConnection) when the server cannot be reached or refuses the login.
std::unique_ptr<Db> OpenPostgresDb(const std::string& url);

// Brings the schema up to date. Serialised across nodes by an advisory lock, so nodes that start
// together migrate once.
void MigratePostgres(Db& db);
// The frozen history that brings an older database up to the schema (store/sql/schema.h).
std::span<const char* const> PostgresLegacyMigrations();

// The URL with its password replaced by ***, for logs and errors.
std::string RedactDatabaseUrl(const std::string& url);

// True for postgres:// and postgresql:// URLs.
bool IsPostgresUrl(const std::string& url);

}  // namespace bluegate::store
