#include "store/sqlite/conversations.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace bluegate::store {

void ConversationFiler::MaybeFile(Db& db) {
  const TimePoint now = clock_.Now();
  if (now >= last_ && now - last_ < Millis(500)) return;
  last_ = now;
  try {
    db.Begin();
    Stmt wm(&db,
            "SELECT id, (SELECT COALESCE(MAX(id), 0) FROM messages) FROM "
            "conversation_watermark");
    wm.Step();
    const int64_t from = wm.Int(0);
    const int64_t to = std::min(wm.Int(1), from + 200'000);
    wm.Reset();
    if (to > from) {
      Stmt file(
          &db,
          "INSERT INTO conversations(account_id, contact, created_at, message_id) "
          "SELECT account_id, contact, created_at, id FROM messages WHERE id > ? AND id <= ? "
          "AND contact != '' ORDER BY account_id, contact, created_at ON CONFLICT DO NOTHING");
      file.Bind(from).Bind(to).Exec();
      Stmt up(&db, "UPDATE conversation_watermark SET id = ?");
      up.Bind(to).Exec();
    }
    db.Exec("COMMIT");
  } catch (const DbError& e) {
    db.ExecQuietly("ROLLBACK");
    spdlog::warn("filing conversations failed (retried later): {}", e.what());
  }
}

}  // namespace bluegate::store
