// Retention of finished messages (store.message_retention): what an operator sets to bound the
// database's growth. Messages go in slices of the oldest, so that the writer is never held long.
#include "store/sql/sql_store_impl.h"

namespace bluegate::store {

// A slice that frees nothing ends the pass: a head of old messages that must stay (still
// queued, or with a webhook to deliver) holds back the newer ones until it goes, as with
// PruneDeliveries; each slice reads only 5,000 rows, however large the table.
Result<int64_t> SqlStore::PruneMessages(TimePoint cutoff) {
  int64_t total = 0;
  for (;;) {
    auto n = WriteSync<int64_t>([this, cutoff](WriterStatements&,
                                               std::vector<Delivery>&) -> Result<int64_t> {
      // Of the 5,000 oldest messages, those finished before the cutoff whose webhooks are all
      // done: a message still queued, with its carrier, or awaiting a callback stays.
      Stmt old(writer_db_,
               "SELECT id, account_id, contact, created_at FROM (SELECT id, account_id, contact, "
               "created_at, updated_at, status, service FROM messages ORDER BY id LIMIT 5000) AS "
               "oldest WHERE updated_at < ? AND status NOT IN ('QUEUED', 'ACCEPTED') AND NOT "
               "(status = 'SENT' AND service = 'iMessage') AND NOT EXISTS (SELECT 1 FROM "
               "webhook_deliveries d WHERE d.message_id = oldest.id AND d.state = 'pending')");
      old.Bind(ToUnixMillis(cutoff));
      struct Row {
        int64_t id, account_id, created_at;
        std::string contact;
      };
      std::vector<Row> rows;  // read first: the deletes do not run under the open query
      while (old.Step()) rows.push_back(Row{old.Int(0), old.Int(1), old.Int(3), old.Text(2)});
      old.Reset();
      Stmt message(writer_db_, "DELETE FROM messages WHERE id = ?");
      Stmt events(writer_db_, "DELETE FROM message_events WHERE message_id = ?");
      Stmt filed(writer_db_,
                 "DELETE FROM conversations WHERE account_id = ? AND contact = ? AND created_at = "
                 "? AND message_id = ?");
      for (const Row& r : rows) {
        message.Reset().Bind(r.id).Exec();
        events.Reset().Bind(r.id).Exec();
        filed.Reset().Bind(r.account_id).Bind(r.contact).Bind(r.created_at).Bind(r.id).Exec();
      }
      return static_cast<int64_t>(rows.size());
    });
    if (!n.ok()) return n.error();
    total += n.value();
    if (n.value() == 0) return total;
  }
}

}  // namespace bluegate::store
