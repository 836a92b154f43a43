// The embedded default store: SQLite in WAL mode with synchronous=FULL, one writer thread that
// group-commits, and a pool of read connections (the shared SQL store on the SQLite engine).
#pragma once

#include <memory>
#include <string>

#include "core/clock.h"
#include "store/store.h"

namespace bluegate::store {

struct SqliteSettings {
  std::string path;              // the database file; created with its schema when missing
  size_t max_batch = 4096;       // writes per transaction at most
  size_t max_pending = 100'000;  // writes waiting at most; past it one is refused (overloaded)
  // How long recorded webhook attempts alone wait to share a commit (store.lazy_commit_delay).
  Millis lazy_commit_delay{10};
  Millis busy_timeout{5000};     // waiting for another process (an admin command) to finish
  std::string vfs;               // SQLite VFS name; empty: the default (tests inject failures)
  Millis full_disk_retry{1000};  // after a full disk, how long writes fail fast before a retry
  // The WAL past which a checkpoint empties it, holding writes back briefly (store.wal_max_bytes;
  // 0: passive checkpoints only, which constant writes outrun).
  uint64_t wal_max_bytes = 64ull << 20;
  int64_t max_unrouted_per_line = 10'000;  // SqlEngine::max_unrouted_per_line
};

// Opens (and migrates) the database. Throws std::runtime_error when it cannot be opened: a
// startup failure, not a runtime error.
std::unique_ptr<Store> MakeSqliteStore(const SqliteSettings& settings, Clock& clock);

}  // namespace bluegate::store
