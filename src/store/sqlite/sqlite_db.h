// SQLite behind the store's Db interface (store/sql/db.h): WAL mode, synchronous=FULL.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "core/clock.h"
#include "store/sql/db.h"

namespace bluegate::store {

struct SqliteOpen {
  std::string path;
  std::string vfs;  // empty: the default
  Millis busy_timeout{5000};
  int cache_kib = 2000;  // this connection's page cache
  bool readonly = false;
};

// Throws std::runtime_error when the file cannot be opened.
std::unique_ptr<Db> OpenSqliteDb(const SqliteOpen& open);

// Brings the schema up to date (each migration once, in order, in one transaction).
void MigrateSqlite(Db& db);
// The frozen history that brings an older database up to the schema (store/sql/schema.h).
std::span<const char* const> SqliteLegacyMigrations();

// Copies what it can of the WAL into the database file without blocking anyone; when the WAL
// then holds more than `restart_past_bytes` (0: no limit), copies the rest so that the next
// write starts the WAL over, holding the writer back for that long. With `backup_of` (the
// database's path) it restarts only while it holds that database's BackupLock exclusively: while
// a backup or a check reads its snapshot, the WAL is left to grow instead.
struct CheckpointResult {
  uint64_t wal_bytes = 0;  // what the WAL holds afterwards (0 once restarted)
  bool restarted = false;
  bool backup_running = false;  // the restart was due but skipped: a long reader holds the lock
};
CheckpointResult CheckpointSqlite(Db& db, uint64_t restart_past_bytes = 0,
                                  const std::string& backup_of = {});

// SQLite's data_version: moves when another connection commits.
int64_t SqliteDataVersion(Db& db);

}  // namespace bluegate::store
