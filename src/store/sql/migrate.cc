#include "store/sql/migrate.h"

#include <stdexcept>
#include <string>

namespace bluegate::store {

void ApplyMigrations(Db& db, std::span<const char* const> migrations) {
  int64_t have = 0;
  {
    // Finished before the migrations run: a pending read would lock out DROP statements (SQLite).
    Stmt q(&db, "SELECT COALESCE(MAX(version), 0) FROM schema_version");
    q.Step();
    have = q.Int(0);
  }
  const auto want = static_cast<int64_t>(migrations.size());
  if (have > want) {
    throw std::runtime_error("the database has schema version " + std::to_string(have) +
                             ", newer than this bluegate (" + std::to_string(want) + ")");
  }
  for (int64_t v = have; v < want; ++v) {
    db.Exec(migrations[static_cast<size_t>(v)]);
    Stmt ins(&db, "INSERT INTO schema_version(version) VALUES (?)");
    ins.Bind(v + 1).Exec();
  }
}

}  // namespace bluegate::store
