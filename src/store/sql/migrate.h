// Versioned schema migrations (store/sql/schema.h says how the schema is written once).
#pragma once

#include <span>

#include "store/sql/db.h"

namespace bluegate::store {

// Inside the caller's transaction, on a database with a schema_version table. A new database (no
// version recorded) is made from CurrentSchema() and recorded at the end of `legacy`, the
// engine's frozen history; an older one runs the rest of `legacy`. Then the SharedMigrations() it
// has not had, in order. Each step is recorded. Throws std::runtime_error when the database is
// newer than this binary.
void ApplyMigrations(Db& db, std::span<const char* const> legacy);

}  // namespace bluegate::store
