// Versioned schema migrations, shared by the engines (each has its own list).
#pragma once

#include <span>

#include "store/sql/db.h"

namespace bluegate::store {

// Inside the caller's transaction, on a database with a schema_version table: runs the
// migrations the database has not had yet, in order, recording each. Throws std::runtime_error
// when the database is newer than this binary (more versions than `migrations`).
void ApplyMigrations(Db& db, std::span<const char* const> migrations);

}  // namespace bluegate::store
