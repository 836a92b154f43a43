#include "store/sql/migrate.h"

#include <stdexcept>
#include <string>

#include "store/sql/schema.h"

namespace bluegate::store {
namespace {

void Record(Db& db, int64_t version) {
  Stmt ins(&db, "INSERT INTO schema_version(version) VALUES (?)");
  ins.Bind(version).Exec();
}

}  // namespace

void ApplyMigrations(Db& db, std::span<const char* const> legacy) {
  int64_t have = 0;
  {
    // Finished before the migrations run: a pending read would lock out DROP statements (SQLite).
    Stmt q(&db, "SELECT COALESCE(MAX(version), 0) FROM schema_version");
    q.Step();
    have = q.Int(0);
  }
  const auto frozen = static_cast<int64_t>(legacy.size());
  const auto shared = SharedMigrations();
  const int64_t want = frozen + static_cast<int64_t>(shared.size());
  if (have > want) {
    throw std::runtime_error("the database has schema version " + std::to_string(have) +
                             ", newer than this bluegate (" + std::to_string(want) + ")");
  }
  if (have == 0) {
    db.Exec(CurrentSchema(db.engine()));
    have = frozen;
    Record(db, have);
  }
  for (int64_t v = have; v < frozen; ++v) {
    db.Exec(legacy[static_cast<size_t>(v)]);
    Record(db, v + 1);
  }
  for (int64_t v = std::max(have, frozen); v < want; ++v) {
    db.Exec(RenderSchema(shared[static_cast<size_t>(v - frozen)], db.engine()));
    Record(db, v + 1);
  }
}

}  // namespace bluegate::store
