// The store's side of the writer engine (BatchHooks): per-batch caches and prefetches, PostgreSQL's
// deferred contact bindings, observers told after the commit, and the engine's own after-batch work
// (SQLite files conversations).
#include "store/sql/sql_store_impl.h"

#include <spdlog/spdlog.h>

namespace bluegate::store {

// What a batch reads before its writes, sent together: the cache epochs (RefreshCaches) and, on
// PostgreSQL, the states of every message its transitions name (locked for the transaction) and
// who holds the lease of each line its accepts name. One round trip for all, instead of one per
// statement (and once, one per write or line).
void SqlStore::SendPrefetch(const std::vector<WriteKeys>& batch) {
  stmts_->epochs.Reset().SendAhead();
  states_sent_ = holders_sent_ = false;
  if (!postgres_) return;
  ArrayLiteral ids, lines;
  for (const auto& op : batch) {
    if (op.message_id > 0) ids.Add(std::to_string(op.message_id));
    if (!op.line.empty() && holders_.try_emplace(op.line, node_id_).second) lines.AddText(op.line);
  }
  if (!ids.empty()) {
    stmts_->message_states.Reset().Bind(ids.text()).SendAhead();
    states_sent_ = true;
  }
  if (!lines.empty()) {
    stmts_->line_holders.Reset().Bind(lines.text()).SendAhead();
    holders_sent_ = true;
  }
}

// PostgreSQL: reads what SendPrefetch sent, then the contacts the batch's accepts name that the
// cache lacks (after RefreshCaches, which may have emptied it), in one more round trip if any.
void SqlStore::PrefetchStates(const std::vector<WriteKeys>& batch) {
  batch_states_.clear();
  if (!postgres_) return;
  if (states_sent_) {
    Stmt& s = stmts_->message_states;
    while (s.Step()) batch_states_.insert_or_assign(s.Int(0), ReadState(s, 1));
    s.Reset();
  }
  if (holders_sent_) {  // a line without a live lease is this node's (see LineHolder)
    Stmt& s = stmts_->line_holders;
    while (s.Step()) holders_.insert_or_assign(s.Text(0), s.Text(1));
    s.Reset();
  }
  ArrayLiteral accounts, numbers;
  std::vector<std::string> keys;  // the accepts' contacts the cache lacks
  if (contacts_stale_.exchange(false, std::memory_order_acq_rel)) contact_cache_.clear();
  for (const auto& op : batch) {
    if (op.contact.empty()) continue;
    std::string key = std::to_string(op.account_id) + "/" + op.contact;
    if (contact_cache_.contains(key)) continue;
    accounts.Add(std::to_string(op.account_id));
    numbers.Add(op.contact);
    keys.push_back(std::move(key));
  }
  if (!keys.empty()) {
    Stmt& s = stmts_->contact_states.Reset().Bind(accounts.text()).Bind(numbers.text());
    while (s.Step()) {
      contact_cache_.insert_or_assign(std::to_string(s.Int(0)) + "/" + s.Text(1),
                                      ReadContactState(s, 2));
    }
    s.Reset();
    for (auto& key : keys) contact_cache_.try_emplace(std::move(key));  // no row yet
  }
}

void SqlStore::BeginBatch(const std::vector<WriteKeys>& keys, bool isolate) {
  created_.clear();
  pending_events_.clear();
  holders_.clear();
  pending_bindings_.clear();
  status_changes_.clear();
  new_messages_ = {};
  isolating_ = isolate;
  {
    // A process without an observer (an admin command) has no dispatcher: what it writes is
    // marked for a running server's re-queue poll instead.
    std::lock_guard lock(mu_);
    announce_ = !observer_;
  }
  SendPrefetch(keys);
  RefreshCaches();
  PrefetchStates(keys);
}

void SqlStore::BeforeWrite() {
  created_mark_ = created_.size();
  event_mark_ = pending_events_.size();
  status_mark_ = status_changes_.size();
  delivery_owner_ = node_id_;
}

void SqlStore::WriteFailed() {
  created_.resize(created_mark_);
  pending_events_.resize(event_mark_);
  status_changes_.resize(status_mark_);
  contact_cache_.clear();  // it may hold what this write or the batch rolled back
  batch_states_.clear();   // likewise (a transition read again reads its row)
}

bool SqlStore::EndBatch() {
  WriteStatusChanges();
  if (announce_) {
    for (const Delivery& d : created_) stmts_->announce.Reset().Bind(d.id).Exec();
    WriteAnnouncedEvents();
  }
  return WriteBindings();
}

// A process with no event stream writes the batch's events for a running server, which polls
// them every second (app/event_relay.h); what is five minutes old has been read by every node.
void SqlStore::WriteAnnouncedEvents() {
  if (pending_events_.empty()) return;
  Stmt insert(writer_db_,
              "INSERT INTO announced_events(account_id, type, data, at) VALUES (?, ?, ?, ?)");
  for (const StoreEvent& e : pending_events_) {
    insert.Reset().Bind(e.account_id).Bind(e.type).Bind(e.data).Bind(ToUnixMillis(e.at)).Exec();
  }
  Stmt forget(writer_db_, "DELETE FROM announced_events WHERE at < ?");
  forget.Bind(ToUnixMillis(clock_.Now() - std::chrono::minutes(5))).Exec();
}

void SqlStore::RolledBack() {
  status_changes_.clear();
  new_messages_ = {};
  contact_cache_.clear();
  hooks_cache_.clear();
}

void SqlStore::AfterBatch(bool committed) {
  std::function<void(std::vector<Delivery>)> observer;
  {
    std::lock_guard lock(mu_);
    observer = observer_;
  }
  if (committed && observer && !created_.empty()) observer(std::move(created_));
  if (committed && event_publish_) {
    for (const auto& e : pending_events_) event_publish_(e.account_id, e.type, e.data, e.at);
  }
  pending_events_.clear();
  if (engine_.after_batch && writer_->healthy()) engine_.after_batch(*writer_db_);
  created_ = {};
}

// PostgreSQL: writes the batch's bindings in key order, then says whether every contact is
// bound to the line its message was for (another node may have bound one first: the upsert
// then kept that node's line).
bool SqlStore::WriteBindings() {
  if (pending_bindings_.empty()) return true;
  std::stable_sort(pending_bindings_.begin(), pending_bindings_.end(),
                   [](const Binding& a, const Binding& b) {
                     return std::tie(a.account_id, a.contact) < std::tie(b.account_id, b.contact);
                   });
  for (const auto& b : pending_bindings_) {
    stmts_->bind_contact.Reset()
        .Bind(b.account_id)
        .Bind(b.contact)
        .Bind(b.at)
        .Bind(b.line)
        .Bind(b.contact_id)
        .ExecDeferred();
  }
  ArrayLiteral accounts, numbers, lines;
  for (const auto& b : pending_bindings_) {
    accounts.Add(std::to_string(b.account_id));
    numbers.Add(b.contact);
    lines.Add(b.line);
  }
  Stmt& s = stmts_->check_bindings.Reset();
  s.Bind(accounts.text()).Bind(numbers.text()).Bind(lines.text());
  s.Step();
  const bool ok = s.Int(0) == 0;
  s.Reset();
  if (!ok) {
    std::lock_guard lock(routes_mu_);
    for (const auto& b : pending_bindings_) {
      routes_.erase(std::to_string(b.account_id) + "/" + b.contact);
    }
  }
  return ok;
}

// PostgreSQL: the batch's status changes so far as one UPDATE with a row per message (in id order,
// as the prefetch locked them), leaving what the changes one by one would have left: the last
// change's status, time and error, the last service and was_downgraded given, and accepted_at
// from the last change to ACCEPTED. (The message's index entries are then written once per
// batch, not once per change.)
void SqlStore::WriteStatusChanges() {
  WriteNewMessages();
  if (status_changes_.empty()) return;
  struct Row {
    const StatusChange* last = nullptr;
    std::optional<Service> service;
    std::optional<bool> was_downgraded;
    std::optional<int64_t> accepted_at;
  };
  std::map<int64_t, Row> rows;
  for (const StatusChange& c : status_changes_) {
    Row& r = rows[c.message_id];
    r.last = &c;
    if (c.service) r.service = c.service;
    if (c.was_downgraded) r.was_downgraded = c.was_downgraded;
    if (c.to == Status::kAccepted) r.accepted_at = c.at;
  }
  ArrayLiteral ids, statuses, ats, codes, messages, reasons, details, services, downgraded,
      accepted;
  for (const auto& [id, r] : rows) {
    const StatusChange& c = *r.last;
    ids.AddInt(id);
    statuses.AddText(StatusName(c.to));
    ats.AddInt(c.at);
    const std::optional<MessageError>& e = c.error;
    codes.AddText(e ? std::optional<std::string>(ErrorCodeToString(e->code)) : std::nullopt);
    messages.AddText(e ? std::optional<std::string_view>(e->message) : std::nullopt);
    reasons.AddText(e ? e->reason : std::nullopt);
    details.AddText(e ? e->detail : std::nullopt);
    services.AddText(r.service ? std::optional(ServiceName(*r.service)) : std::nullopt);
    downgraded.AddInt(r.was_downgraded ? std::optional<int64_t>(*r.was_downgraded) : std::nullopt);
    accepted.AddInt(r.accepted_at);
  }
  stmts_->update_statuses.Reset()
      .Bind(ids.text())
      .Bind(statuses.text())
      .Bind(ats.text())
      .Bind(codes.text())
      .Bind(messages.text())
      .Bind(reasons.text())
      .Bind(details.text())
      .Bind(services.text())
      .Bind(downgraded.text())
      .Bind(accepted.text())
      .ExecDeferred();
  status_changes_.clear();
  status_mark_ = 0;  // sent: a write failing now rolls back the whole batch or its savepoint
}

// PostgreSQL: the batch's new messages so far as one INSERT, before any statement that may read
// or change their rows (a write that reads messages, a transition's read of its row, the status
// changes). Their ids came from the sequence, so nothing waited for this.
void SqlStore::WriteNewMessages() {
  if (new_messages_.empty()) return;
  Stmt& s = stmts_->insert_messages.Reset();
  for (const ArrayLiteral& column : new_messages_.columns()) s.Bind(column.text());
  s.ExecDeferred();
  new_messages_ = {};
}

// Drops what the writer's caches may hold that another connection changed since the last batch:
// contacts (on SQLite, when data_version says another connection committed; on PostgreSQL,
// where other nodes write all the time, at every batch) and webhooks (when their epoch moved).
void SqlStore::RefreshCaches() {
  Stmt& epochs = stmts_->epochs;  // sent by SendPrefetch
  epochs.Step();
  const int64_t webhooks = epochs.Int(0);
  const int64_t contacts = epochs.Int(1);
  epochs.Reset();
  if (webhooks != webhooks_epoch_) hooks_cache_.clear();
  webhooks_epoch_ = webhooks;
  if (postgres_) {
    // Other nodes change contacts (opt-outs, bindings, deletions) through writes that move the
    // epoch; their first messages to a contact are caught by the binding upsert itself.
    if (contacts != contacts_epoch_) contact_cache_.clear();
    contacts_epoch_ = contacts;
    return;
  }
  Stmt version(writer_db_, "PRAGMA data_version");
  version.Step();
  const int64_t v = version.Int(0);
  if (v != data_version_) contact_cache_.clear();
  data_version_ = v;
}

}  // namespace bluegate::store
