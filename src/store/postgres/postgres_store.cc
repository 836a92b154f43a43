#include "store/postgres/postgres_store.h"

#include "store/postgres/postgres_db.h"
#include "store/sql/sql_store.h"

namespace bluegate::store {

std::unique_ptr<Store> MakePostgresStore(const PostgresSettings& settings, Clock& clock) {
  SqlEngine engine;
  engine.connect = [url = settings.url](int) { return OpenPostgresDb(url); };
  engine.migrate = [](Db& db) { MigratePostgres(db); };
  engine.max_batch = settings.max_batch;
  engine.max_pending = settings.max_pending;
  engine.lazy_commit_delay = settings.lazy_commit_delay;
  engine.max_unrouted_per_line = settings.max_unrouted_per_line;
  engine.node_id = settings.node_id;
  try {
    return MakeSqlStore(std::move(engine), clock);
  } catch (const DbError& e) {
    throw std::runtime_error(e.what());
  }
}

}  // namespace bluegate::store
