// The Store (store/store.h) on SQL, shared by the SQLite and PostgreSQL engines: one writer thread
// that group-commits, a pool of read connections, the same statements on both (store/sql/db.h).
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "core/clock.h"
#include "store/sql/db.h"
#include "store/store.h"

namespace bluegate::store {

// What the shared store needs of an engine.
struct SqlEngine {
  // A new connection. `cache_kib` is a page-cache hint (SQLite's connections each have one).
  std::function<std::unique_ptr<Db>(int cache_kib)> connect;
  // Brings the schema up to date on a fresh connection.
  std::function<void(Db&)> migrate;
  // Run every 100 ms on a connection of its own (SQLite: WAL checkpoints). May be empty.
  std::function<void(Db&)> housekeeping;
  // Run on the writer thread and connection after each batch while the store is healthy, outside
  // any transaction (SQLite: files conversations, store/sqlite/conversations.h). May be empty.
  std::function<void(Db&)> after_batch;
  size_t max_batch = 4096;       // writes per transaction at most
  size_t max_pending = 100'000;  // writes waiting at most (WriterSettings::max_pending)
  Millis lazy_commit_delay{10};  // WriterSettings::lazy_delay (webhook attempts)
  // After a full disk (DbError::kFull), writes fail fast this long before the writer tries again.
  Millis full_disk_retry{1000};
  std::string node_id;  // see PostgresSettings::node_id
  // Inbound messages kept per shared line from numbers no account registered; past it the
  // oldest go (inbound.max_unrouted_per_line: strangers cannot fill the disk).
  int64_t max_unrouted_per_line = 10'000;
};

// Opens (and migrates). Throws std::runtime_error (or DbError) when the database cannot be
// opened: a startup failure, not a runtime error.
std::unique_ptr<Store> MakeSqlStore(SqlEngine engine, Clock& clock);

}  // namespace bluegate::store
