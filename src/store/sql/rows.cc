#include "store/sql/rows.h"

namespace bluegate::store {

const char* const kDeliveryColumns =
    "id, message_id, kind, url, secret, status, event_at, attempts, next_attempt_at, payload";

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
