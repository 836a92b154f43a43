#include "store/sql/rows.h"

namespace bluegate::store {

// A delivery's signing secret is not stored with it: it is the secret its webhook has now (its
// own, else the account's global one), and none for a status_callback. So a secret is kept once,
// and one that was replaced is gone from the database.
const char* const kDeliveryColumns =
    "id, message_id, kind, url, "
    "CASE WHEN webhook_deliveries.kind = 'status_callback' THEN '' ELSE COALESCE((SELECT "
    "COALESCE(w.secret, a.webhook_secret) FROM accounts a LEFT JOIN account_webhooks w ON "
    "w.account_id = a.id AND w.type = webhook_deliveries.kind AND w.url = webhook_deliveries.url "
    "WHERE a.id = COALESCE(webhook_deliveries.account_id, (SELECT m.account_id FROM messages m "
    "WHERE m.id = webhook_deliveries.message_id))), '') END, "
    "status, event_at, attempts, next_attempt_at, payload";

Delivery ReadDelivery(const Stmt& s) {
  Delivery d;
  d.id = s.Int(0);
  d.message_id = s.Int(1);
  d.kind = s.Text(2);
  d.url = s.Text(3);
  d.secret = s.Text(4);
  d.status = StatusFromName(s.Text(5)).value_or(Status::kError);
  d.event_at = FromUnixMillis(s.Int(6));
  d.attempts = static_cast<int>(s.Int(7));
  d.next_attempt_at = FromUnixMillis(s.Int(8));
  d.payload = s.Text(9);
  return d;
}

}  // namespace bluegate::store
