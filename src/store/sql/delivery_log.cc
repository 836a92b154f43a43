// DeliveryLog on SQL (store/delivery_log.h): attempts, what is due, the delivery log, re-queues and
// pruning.
#include "store/sql/sql_store_impl.h"

namespace bluegate::store {

void SqlStore::RecordAttempts(std::vector<DeliveryAttempt> attempts,
                              std::function<void(Result<Ok>)> done) {
  Enqueue<Ok>(
      [this, attempts = std::move(attempts)](WriterStatements& st,
                                             std::vector<Delivery>&) -> Result<Ok> {
        for (const DeliveryAttempt& a : attempts) WriteAttempt(st, a);
        return Ok{};
      },
      std::move(done), {}, Reads::kStatesOnly, /*lazy=*/true);
}

void SqlStore::WriteAttempt(WriterStatements& st, const DeliveryAttempt& a) {
  const int64_t at = ToUnixMillis(a.at);
  if (a.new_state == DeliveryState::kDisabled) any_disabled_ = true;
  st.update_delivery.Reset()
      .Bind(DeliveryStateName(a.new_state))
      .Bind(a.next_attempt_at ? std::optional<int64_t>(ToUnixMillis(*a.next_attempt_at))
                              : std::nullopt)
      .Bind(a.http_status ? std::optional<int64_t>(a.http_status) : std::nullopt)
      .Bind(static_cast<int64_t>(a.latency.count()))
      .Bind(a.error.empty() ? std::nullopt : std::optional<std::string>(a.error))
      .Bind(at)
      .Bind(a.delivery_id)
      .ExecDeferred();
  if (a.disable_endpoint) {
    st.disable_hook.Reset().Bind(at).Bind(a.url).Bind(a.message_id).Exec();
    st.bump_webhooks_epoch.Reset().Exec();
    hooks_cache_.clear();
  }
  if (a.first_try_success) return;
  st.insert_attempt.Reset()
      .Bind(a.delivery_id)
      .Bind(at)
      .Bind(a.http_status ? std::optional<int64_t>(a.http_status) : std::nullopt)
      .Bind(static_cast<int64_t>(a.latency.count()))
      .Bind(a.error.empty() ? std::nullopt : std::optional<std::string>(a.error))
      .ExecDeferred();
}

Result<std::vector<Delivery>> SqlStore::PendingDeliveries() { return Pending(std::nullopt); }

Result<std::vector<Delivery>> SqlStore::PendingDeliveriesOf(int64_t message_id) {
  return Pending(message_id);
}

// Deliveries still due (of one message, or all) that are this node's: on PostgreSQL each node
// dispatches its own, and the others' are claimed when their node goes.
Result<std::vector<Delivery>> SqlStore::Pending(std::optional<int64_t> message_id) {
  return Read<std::vector<Delivery>>([&](Conn& c) -> Result<std::vector<Delivery>> {
    Stmt& s = c.Prepare(std::string("SELECT ") + kDeliveryColumns +
                        " FROM webhook_deliveries WHERE state = 'pending'" +
                        (message_id ? " AND message_id = ?" : "") +
                        (postgres_ ? " AND owner IS NOT DISTINCT FROM ?" : "") + " ORDER BY id");
    if (message_id) s.Bind(*message_id);
    if (postgres_) s.Bind(OwnNode());
    std::vector<Delivery> out;
    while (s.Step()) out.push_back(ReadDelivery(s));
    return out;
  });
}

Result<std::vector<Delivery>> SqlStore::DeliveriesForMessage(int64_t message_id) {
  return Read<std::vector<Delivery>>([&](Conn& c) -> Result<std::vector<Delivery>> {
    Stmt& s = c.Prepare(std::string("SELECT ") + kDeliveryColumns +
                        " FROM webhook_deliveries WHERE message_id = ? ORDER BY id");
    s.Bind(message_id);
    std::vector<Delivery> out;
    while (s.Step()) out.push_back(ReadDelivery(s));
    return out;
  });
}

Result<DeliveryPage> SqlStore::ListDeliveries(const DeliveryQuery& q) {
  return Read<DeliveryPage>([&](Conn& c) -> Result<DeliveryPage> {
    std::string where = " WHERE 1 = 1";
    if (q.account_id) where += " AND COALESCE(m.account_id, d.account_id) = ?";
    if (q.message_handle) where += " AND m.handle = ?";
    if (q.url) where += " AND d.url = ?";
    if (q.state) where += " AND d.state = ?";
    auto bind = [&](Stmt& st) {
      if (q.account_id) st.Bind(*q.account_id);
      if (q.message_handle) st.Bind(*q.message_handle);
      if (q.url) st.Bind(*q.url);
      if (q.state) st.Bind(DeliveryStateName(*q.state));
    };
    const std::string from =
        " FROM webhook_deliveries d LEFT JOIN messages m ON m.id = d.message_id";
    DeliveryPage page;
    Stmt& count = c.Prepare("SELECT COUNT(*)" + from + where);
    bind(count);
    count.Step();
    page.total = count.Int(0);
    Stmt& rows = c.Prepare(
        "SELECT d.id, d.message_id, d.kind, d.url, '', d.status, d.event_at, d.attempts, "
        "d.next_attempt_at, d.payload, COALESCE(m.handle, ''), d.state, d.updated_at, "
        "d.last_http_status, d.last_latency_ms, d.last_error" +
        from + where + " ORDER BY d.id DESC LIMIT ? OFFSET ?");
    bind(rows);
    rows.Bind(int64_t{q.limit}).Bind(int64_t{q.offset});
    Stmt& attempts = c.Prepare(
        "SELECT at, http_status, latency_ms, error FROM webhook_attempts WHERE delivery_id = ? "
        "ORDER BY id");
    while (rows.Step()) {
      DeliveryRecord r;
      r.delivery = ReadDelivery(rows);
      r.message_handle = rows.Text(10);
      const std::string state = rows.Text(11);
      r.state = DeliveryStateFromName(state).value_or(DeliveryState::kPending);
      r.updated_at = FromUnixMillis(rows.Int(12));
      attempts.Reset().Bind(r.delivery.id);
      while (attempts.Step()) {
        r.attempt_log.push_back(AttemptRecord{FromUnixMillis(attempts.Int(0)),
                                              static_cast<int>(attempts.Int(1)),
                                              Millis(attempts.Int(2)), attempts.Text(3)});
      }
      // A first attempt that succeeded left no attempt row: the delivery row tells it.
      if (r.state == DeliveryState::kDelivered &&
          static_cast<int>(r.attempt_log.size()) < r.delivery.attempts) {
        r.attempt_log.push_back(AttemptRecord{r.updated_at, static_cast<int>(rows.Int(13)),
                                              Millis(rows.Int(14)), rows.Text(15)});
      }
      page.data.push_back(std::move(r));
    }
    return page;
  });
}

Result<Delivery> SqlStore::RequeueDelivery(std::optional<int64_t> account_id, int64_t delivery_id) {
  return WriteSync<Delivery>([this, account_id, delivery_id](
                                 WriterStatements&, std::vector<Delivery>&) -> Result<Delivery> {
    Stmt owner(writer_db_,
               "SELECT COALESCE(m.account_id, d.account_id) FROM webhook_deliveries d LEFT JOIN "
               "messages m ON m.id = d.message_id WHERE d.id = ?");
    owner.Bind(delivery_id);
    if (!owner.Step() || (account_id && owner.Int(0) != *account_id)) {
      return Error::NotFound("no webhook delivery " + std::to_string(delivery_id));
    }
    const int64_t now = ToUnixMillis(clock_.Now());
    Stmt update(writer_db_,
                std::string("UPDATE webhook_deliveries SET state = 'pending', attempts = 0, "
                            "next_attempt_at = ?1, updated_at = ?1, owner = ?3, requeued_at = ") +
                    NextRequeueMark(writer_db_) + " WHERE id = ?2");
    // This node dispatches it; one without a dispatcher (an admin command) leaves it to
    // whichever running node claims it.
    update.Bind(now)
        .Bind(delivery_id)
        .Bind(node_id_.empty() ? std::nullopt : std::optional(node_id_));
    update.Exec();
    Stmt load(writer_db_,
              std::string("SELECT ") + kDeliveryColumns + " FROM webhook_deliveries WHERE id = ?");
    load.Bind(delivery_id);
    load.Step();
    return ReadDelivery(load);
  });
}

Result<std::pair<std::vector<Delivery>, int64_t>> SqlStore::RequeuedSince(int64_t since) {
  using Out = std::pair<std::vector<Delivery>, int64_t>;
  // On PostgreSQL, what an admin command re-queued has no node and is claimed by exactly one
  // (Coordinator::ClaimOrphanDeliveries); every node polling here would send it once each.
  if (postgres_) return Out{{}, since};
  return Read<Out>([&](Conn& c) -> Result<Out> {
    Stmt& s = c.Prepare(std::string("SELECT ") + kDeliveryColumns +
                        ", requeued_at FROM webhook_deliveries WHERE requeued_at > ? AND state = "
                        "'pending' ORDER BY id");
    s.Bind(since);
    Out out{{}, since};
    while (s.Step()) {
      out.first.push_back(ReadDelivery(s));
      out.second = std::max(out.second, s.Int(10));
    }
    return out;
  });
}

Result<int64_t> SqlStore::PruneDeliveries(TimePoint cutoff) {
  // In slices of the 5,000 oldest rows, so the writer is never held for long and no slice
  // scans the whole table; rows are in time order, so the oldest are the candidates. A slice
  // that frees nothing ends the pass (a head of long-retrying deliveries waits for them).
  int64_t total = 0;
  for (;;) {
    auto n = WriteSync<int64_t>([this, cutoff](WriterStatements&,
                                               std::vector<Delivery>&) -> Result<int64_t> {
      const int64_t at = ToUnixMillis(cutoff);
      Stmt attempts(writer_db_,
                    "DELETE FROM webhook_attempts WHERE id IN (SELECT id FROM (SELECT id, at FROM "
                    "webhook_attempts ORDER BY id LIMIT 5000) AS oldest WHERE at < ?)");
      attempts.Bind(at).Exec();
      int64_t n = attempts.Changes();
      Stmt deliveries(
          writer_db_,
          "DELETE FROM webhook_deliveries WHERE id IN (SELECT id FROM (SELECT id, state, "
          "updated_at FROM webhook_deliveries ORDER BY id LIMIT 5000) AS oldest WHERE state "
          "!= 'pending' AND updated_at < ?)");
      deliveries.Bind(at).Exec();
      return n + deliveries.Changes();
    });
    if (!n.ok()) return n.error();
    total += n.value();
    if (n.value() == 0) return total;
  }
}

}  // namespace bluegate::store
