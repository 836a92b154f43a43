#include "store/sqlite/sqlite_store.h"

#include <memory>

#include "store/sql/sql_store.h"
#include "store/sqlite/conversations.h"
#include "store/sqlite/sqlite_db.h"

namespace bluegate::store {

std::unique_ptr<Store> MakeSqliteStore(const SqliteSettings& settings, Clock& clock) {
  SqlEngine engine;
  engine.connect = [settings](int cache_kib) {
    SqliteOpen open;
    open.path = settings.path;
    open.vfs = settings.vfs;
    open.busy_timeout = settings.busy_timeout;
    open.cache_kib = cache_kib;
    return OpenSqliteDb(open);
  };
  engine.migrate = [](Db& db) {
    MigrateSqlite(db);
    // Checkpoints (copying the WAL into the database file, with its own fsyncs) run on their own
    // thread and connection, off the writer's path; the WAL is trimmed when it restarts.
    db.Exec("PRAGMA wal_autocheckpoint=0; PRAGMA journal_size_limit=67108864;");
  };
  engine.housekeeping = [limit = settings.wal_max_bytes, path = settings.path](Db& db) {
    (void)CheckpointSqlite(db, limit, path);
  };
  engine.after_batch = [filer = std::make_shared<ConversationFiler>(clock)](Db& db) {
    filer->MaybeFile(db);
  };
  engine.max_batch = settings.max_batch;
  engine.max_pending = settings.max_pending;
  engine.lazy_commit_delay = settings.lazy_commit_delay;
  engine.max_unrouted_per_line = settings.max_unrouted_per_line;
  engine.full_disk_retry = settings.full_disk_retry;
  return MakeSqlStore(std::move(engine), clock);
}

}  // namespace bluegate::store
