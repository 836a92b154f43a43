// MessageLog on SQL (store/message_log.h): accepts, transitions, inbound messages, account events,
// and the webhook deliveries each writes.
#include "store/sql/sql_store_impl.h"

#include <spdlog/spdlog.h>

#include "core/keywords.h"
#include "core/message_json.h"
#include "core/send_request.h"

namespace bluegate::store {

void SqlStore::Accept(Message m, AcceptPolicy policy, std::function<void(Result<Message>)> done) {
  const int64_t account = m.account_id;
  std::string contact = m.message_type == "group" ? "" : m.contact;
  std::string line = m.line_number;
  Enqueue<Message>(
      [this, m = std::move(m), policy](WriterStatements& st,
                                       std::vector<Delivery>& created) mutable -> Result<Message> {
        // Its deliveries are the line's node's to dispatch (scale-out).
        if (postgres_) delivery_owner_ = LineHolder(m.line_number);
        // A group message has no one contact: no route, pacing or opt-out of its own.
        if (m.message_type == "group") return InsertGroupMessage(st, std::move(m), created);
        std::string key = std::to_string(m.account_id) + "/" + m.contact;
        ContactState& state = CachedContact(st, key, m.account_id, m.contact);
        const bool opted_out = state.opted_out;
        const std::optional<std::string> bound = state.line;
        const std::optional<int64_t> last_message = state.last_message;
        const bool verified = state.verified;
        const bool known = state.live;
        // A first message, or the first after a long silence, starts a conversation: the
        // line's new-contact limits pace it.
        m.new_contact =
            !bound || !last_message ||
            ToUnixMillis(m.date_created) - *last_message > policy.new_contact_after.count();
        if (bound && *bound != m.line_number) {
          return BoundToAnotherLine(m.contact, *bound);
        }
        if (opted_out) {
          m.opted_out = true;
          m.status = Status::kDeclined;
          m.error = MessageError{
              ErrorCode::kFailedToSend,
              "The recipient " + m.contact + " has opted out of messages from this account",
              "opted_out", std::nullopt};
        } else if (policy.verified_only && !verified && !policy.verification) {
          m.status = Status::kDeclined;
          m.error = MessageError{
              ErrorCode::kFailedToSend,
              "The recipient " + m.contact + " is not verified, and line " + m.line_number +
                  " is shared: the contact must text the line once before it can be messaged "
                  "(add it as a contact, then have it send any text to " +
                  m.line_number + "; POST /api/v2/contacts/verify asks it to)",
              "contact_not_verified", std::nullopt};
        }
        const int64_t at = ToUnixMillis(m.date_created);
        m.id = InsertMessage(st, m);
        // Binds a new contact; for a known one, last_message_at only needs to be right to the
        // hour for the 30-day window, so most messages skip this write.
        const bool touch_contact = !known || !bound || !last_message ||
                                   at - *last_message > kLastMessageGranularity.count();
        if (touch_contact && postgres_ && !isolating_ &&
            (known || !WantsContactCreated(st, m.account_id, m.line_number))) {
          // Written at the batch's end, in the order of the contacts' keys (two nodes binding
          // the same new contacts in opposite orders would deadlock), and checked there for
          // another node having bound one first (WriteBindings).
          pending_bindings_.push_back(
              {m.account_id, m.contact, m.line_number, at, contacts::NewContactId()});
        } else if (touch_contact) {
          Stmt& bind = st.bind_contact.Reset();
          bind.Bind(m.account_id)
              .Bind(m.contact)
              .Bind(at)
              .Bind(m.line_number)
              .Bind(contacts::NewContactId());
          bind.Step();
          const std::string bound_now = bind.Text(0);
          bind.Reset();
          // Another node bound the contact between the read above and this write (on
          // PostgreSQL the upsert waits for that node's transaction): its binding stands.
          if (bound_now != m.line_number) return BoundToAnotherLine(m.contact, bound_now);
        }
        if (!bound) RememberRoute(std::to_string(m.account_id) + "/" + m.contact, m.line_number);
        if (!known) ContactCreated(st, m.account_id, m.contact, m.line_number, created);
        const auto targets =
            Targets(st, m.id, m.account_id, m.status_callback, "outbound", m.line_number);
        for (Status status : {Status::kRegistered, Status::kPending, m.status}) {
          for (const auto& t : targets) {
            created.push_back(InsertDelivery(st, m.id, t, status, m.date_created));
          }
        }
        if (touch_contact) {
          // What bind_contact wrote (the statements above can no longer fail this write).
          ContactState& after = contact_cache_[key];
          after.row = after.live = true;
          if (!after.line) after.line = m.line_number;
          after.last_message = at;
        }
        return m;
      },
      std::move(done), WriteKeys{0, account, std::move(contact), std::move(line)},
      Reads::kStatesOnly);
}

void SqlStore::Transition(TransitionRequest r,
                          std::function<void(Result<TransitionOutcome>)> done) {
  const int64_t id = r.message_id;
  Enqueue<TransitionOutcome>(
      [this, r = std::move(r)](WriterStatements& st, std::vector<Delivery>& created)
          -> Result<TransitionOutcome> { return ApplyTransition(st, r, created); },
      std::move(done), WriteKeys{id, 0, {}, {}}, Reads::kStatesOnly);
}

SqlStore::MessageState SqlStore::ReadState(const Stmt& s, int first) {
  return MessageState{StatusFromName(s.Text(first)).value_or(Status::kError),
                      ServiceFromName(s.Text(first + 1)).value_or(Service::kIMessage),
                      s.Text(first + 2),
                      s.Int(first + 3),
                      s.Int(first + 4) != 0,
                      s.Text(first + 5),
                      FromUnixMillis(s.Int(first + 6))};
}

Result<TransitionOutcome> SqlStore::ApplyTransition(WriterStatements& st,
                                                    const TransitionRequest& r,
                                                    std::vector<Delivery>& created) {
  MessageState state;
  if (auto it = batch_states_.find(r.message_id); it != batch_states_.end()) {
    state = it->second;
  } else {
    WriteNewMessages();  // (a message of this batch is read from its row)
    st.message_state.Reset().Bind(r.message_id);
    if (!st.message_state.Step()) {
      st.message_state.Reset();
      return Error::NotFound("no message with id " + std::to_string(r.message_id));
    }
    state = ReadState(st.message_state, 0);
    st.message_state.Reset();
  }
  const Status from = state.status;
  const Service service = state.service;
  const std::string& callback = state.callback;
  const int64_t account_id = state.account_id;
  const bool outbound = state.outbound;
  const std::string& line = state.line;
  const bool applied =
      CanTransition(from, r.to, service, r.receipt) && (!r.expect_line || *r.expect_line == line);
  const int64_t at = ToUnixMillis(r.at);
  TransitionOutcome out;
  out.applied = applied;
  out.line = line;
  out.created_at = state.created_at;
  if (!applied) {
    // A late or duplicate report: recorded for the record, and otherwise ignored.
    st.insert_event.Reset()
        .Bind(r.message_id)
        .Bind(StatusName(r.to))
        .Bind(at)
        .Bind(false)
        .Bind(r.source)
        .ExecDeferred();
    out.status = from;
    return out;
  }
  // PostgreSQL writes the row with the batch's other changes at its end (WriteStatusChanges);
  // until then the state kept here is the message's.
  const bool deferred = postgres_ && !isolating_;
  if (deferred) {
    status_changes_.push_back({r.message_id, r.to, at, r.error, r.service, r.was_downgraded});
  } else {
    auto& s = st.update_status.Reset();
    s.Bind(StatusName(r.to)).Bind(at);
    BindError(s, r.error);
    s.Bind(r.service ? std::optional<std::string_view>(ServiceName(*r.service)) : std::nullopt)
        .Bind(r.was_downgraded)
        .Bind(r.message_id);
    s.ExecDeferred();
  }
  // A later transition of this batch starts from here.
  state.status = r.to;
  if (r.service) state.service = *r.service;
  out.service = state.service;
  if (deferred || batch_states_.contains(r.message_id)) {
    batch_states_.insert_or_assign(r.message_id, state);
  }
  out.status = r.to;
  if (outbound) {
    for (const auto& t : Targets(st, r.message_id, account_id, callback, "outbound", "")) {
      created.push_back(InsertDelivery(st, r.message_id, t, r.to, r.at));
    }
  }
  return out;
}

void SqlStore::MarkRead(int64_t message_id, TimePoint at,
                        std::function<void(Result<Message>)> done) {
  Enqueue<Message>(
      [this, message_id, at](WriterStatements& st, std::vector<Delivery>&) -> Result<Message> {
        st.mark_read.Reset().Bind(ToUnixMillis(at)).Bind(message_id).Exec();
        return LoadMessage(st, message_id);
      },
      std::move(done));
}

void SqlStore::ReplaceMedia(int64_t message_id, std::string media_url,
                            std::function<void(Result<Ok>)> done) {
  Enqueue<Ok>(
      [message_id, media_url = std::move(media_url)](WriterStatements& st,
                                                     std::vector<Delivery>&) -> Result<Ok> {
        st.replace_media.Reset().Bind(media_url).Bind(message_id).Exec();
        return Ok{};
      },
      std::move(done));
}

void SqlStore::RecordInbound(Message m, std::function<void(Result<Message>)> done) {
  Enqueue<Message>(
      [this, m = std::move(m)](WriterStatements& st,
                               std::vector<Delivery>& created) mutable -> Result<Message> {
        // In a group, a contact's message binds nothing and its keywords opt nobody out.
        if (m.message_type == "group") {
          m.is_outbound = false;
          m.status = Status::kReceived;
          auto r = InsertGroupMessage(st, std::move(m), created);
          if (r.ok()) AnnounceReceived(r.value());
          return r;
        }
        Message stored = InsertInbound(st, std::move(m), created);
        AnnounceReceived(stored);
        return stored;
      },
      std::move(done));
}

void SqlStore::RecordSharedInbound(Message m, std::vector<int64_t> accounts,
                                   std::function<void(Result<std::vector<Message>>)> done) {
  Enqueue<std::vector<Message>>(
      [this, m = std::move(m), accounts = std::move(accounts)](
          WriterStatements& st, std::vector<Delivery>& created) -> Result<std::vector<Message>> {
        std::vector<Message> out;
        for (int64_t account : accounts) {
          // Registered: the account has the sender as a contact (added, or written to).
          st.contact_opted_out.Reset().Bind(account).Bind(m.contact);
          const bool registered = st.contact_opted_out.Step() && st.contact_opted_out.Int(4) == 0;
          st.contact_opted_out.Reset();
          if (!registered) continue;
          Message copy = m;
          copy.account_id = account;
          if (!out.empty()) copy.handle = contacts::NewContactId();  // each account's own
          out.push_back(InsertInbound(st, std::move(copy), created));
          AnnounceReceived(out.back());
        }
        if (out.empty()) {
          Stmt keep(writer_db_,
                    "INSERT INTO unrouted_inbound(line_number, contact, content, media_url, "
                    "service, received_at) VALUES (?, ?, ?, ?, ?, ?)");
          keep.Bind(m.line_number)
              .Bind(m.contact)
              .Bind(m.content)
              .Bind(m.media_url)
              .Bind(ServiceName(m.service))
              .Bind(ToUnixMillis(m.date_created))
              .Exec();
          // Bounded per line: the oldest beyond the cap go, so strangers cannot fill the disk.
          Stmt trim(writer_db_,
                    "DELETE FROM unrouted_inbound WHERE line_number = ? AND id <= (SELECT id FROM "
                    "unrouted_inbound WHERE line_number = ? ORDER BY id DESC LIMIT 1 OFFSET ?)");
          trim.Bind(m.line_number).Bind(m.line_number).Bind(engine_.max_unrouted_per_line).Exec();
        }
        return out;
      },
      std::move(done));
}

// A contact's message to a line: binds an unbound contact to the line it wrote to, verifies the
// contact (shared lines send only to contacts who wrote first), applies STOP/START, and writes
// the receive webhooks' deliveries (and contact_created for a new contact).
Message SqlStore::InsertInbound(WriterStatements& st, Message m, std::vector<Delivery>& created) {
  const std::optional<bool> opt = OptOutKeyword(m.content);
  ForgetContact(m.account_id, m.contact);
  st.contact_opted_out.Reset().Bind(m.account_id).Bind(m.contact);
  const bool new_contact = !st.contact_opted_out.Step() || st.contact_opted_out.Int(4);
  st.contact_opted_out.Reset();
  st.bind_contact.Reset()
      .Bind(m.account_id)
      .Bind(m.contact)
      .Bind(ToUnixMillis(m.date_created))
      .Bind(m.line_number)
      .Bind(contacts::NewContactId())
      .Exec();
  st.bump_contacts_epoch.Reset().ExecDeferred();  // verified, maybe opted out or in
  st.inbound_contact.Reset()
      .Bind(opt)
      .Bind(ToUnixMillis(m.date_created))
      .Bind(m.account_id)
      .Bind(m.contact)
      .Exec();
  st.contact_opted_out.Reset().Bind(m.account_id).Bind(m.contact);
  m.opted_out = st.contact_opted_out.Step() && st.contact_opted_out.Int(0) != 0;
  st.contact_opted_out.Reset();
  m.is_outbound = false;
  m.status = Status::kReceived;
  m.id = InsertMessage(st, m);
  for (const auto& t : Targets(st, m.id, m.account_id, "", "receive", m.line_number)) {
    created.push_back(InsertDelivery(st, m.id, t, Status::kReceived, m.date_created));
  }
  if (new_contact) ContactCreated(st, m.account_id, m.contact, m.line_number, created);
  return m;
}

// An admin command's inbound message: its event is written for a running server to publish (the
// server's own are published by its queue, which heard the carrier).
void SqlStore::AnnounceReceived(const Message& m) {
  if (!announce_) return;
  pending_events_.push_back(
      StoreEvent{m.account_id, "message.received", RenderMessageJson(m), m.date_created});
}

void SqlStore::RecordEvent(int64_t account_id, std::string type, std::string payload,
                           std::optional<std::string> line, std::function<void(Result<Ok>)> done) {
  Enqueue<Ok>(
      [this, account_id, type = std::move(type), payload = std::move(payload),
       line = std::move(line)](WriterStatements& st, std::vector<Delivery>& created) -> Result<Ok> {
        const TimePoint now = clock_.Now();
        for (auto& t : Targets(st, 0, account_id, "", type.c_str(), line.value_or(""))) {
          Delivery d = InsertDelivery(st, 0, t, Status::kQueued, now, &payload, account_id);
          created.push_back(std::move(d));
        }
        return Ok{};
      },
      std::move(done));
}

void SqlStore::SetEventObserver(
    std::function<bool(int64_t)> wants,
    std::function<void(int64_t, const std::string&, const std::string&, TimePoint)> publish) {
  std::lock_guard lock(mu_);
  event_wants_ = std::move(wants);
  event_publish_ = std::move(publish);
}

void SqlStore::SetDeliveryObserver(std::function<void(std::vector<Delivery>)> observer) {
  std::lock_guard lock(mu_);
  observer_ = std::move(observer);
}

void SqlStore::BindError(Stmt& s, const std::optional<MessageError>& e) {
  if (e) {
    s.Bind(ErrorCodeToString(e->code)).Bind(e->message).Bind(e->reason).Bind(e->detail);
  } else {
    s.BindNull().BindNull().BindNull().BindNull();
  }
}

Message SqlStore::LoadMessage(WriterStatements& st, int64_t id) {
  st.load_message.Reset().Bind(id);
  st.load_message.Step();
  Message m = ReadMessage(st.load_message);
  st.load_message.Reset();
  return m;
}

// The receiver answered 410 Gone for this message: write no more deliveries to it.
bool SqlStore::EndpointGone(WriterStatements& st, int64_t message_id, const std::string& url) {
  if (!postgres_) {
    if (!any_disabled_) {
      st.any_disabled.Reset();
      any_disabled_ = st.any_disabled.Step();
      st.any_disabled.Reset();
    }
    if (!*any_disabled_) return false;
  }
  st.endpoint_gone.Reset().Bind(message_id).Bind(url);
  const bool gone = st.endpoint_gone.Step();
  st.endpoint_gone.Reset();
  return gone;
}

SqlStore::ContactState& SqlStore::CachedContact(WriterStatements& st, const std::string& key,
                                                int64_t account_id, const std::string& number) {
  if (contacts_stale_.exchange(false, std::memory_order_acq_rel)) contact_cache_.clear();
  if (auto it = contact_cache_.find(key); it != contact_cache_.end()) return it->second;
  if (contact_cache_.size() >= 200'000) contact_cache_.clear();
  ContactState c;
  st.contact_opted_out.Reset().Bind(account_id).Bind(number);
  if (st.contact_opted_out.Step()) c = ReadContactState(st.contact_opted_out, 0);
  st.contact_opted_out.Reset();
  return contact_cache_.emplace(key, std::move(c)).first->second;
}

// opted_out, line_number, last_message_at, verified, deleted from column `first` on.
SqlStore::ContactState SqlStore::ReadContactState(const Stmt& s, int first) {
  ContactState c;
  c.row = true;
  c.opted_out = s.Int(first) != 0;
  c.line = s.OptText(first + 1);
  if (!s.IsNull(first + 2)) c.last_message = s.Int(first + 2);
  c.verified = s.Int(first + 3) != 0;
  c.live = s.Int(first + 4) == 0;
  return c;
}

void SqlStore::ForgetContact(int64_t account_id, const std::string& number) {
  contact_cache_.erase(std::to_string(account_id) + "/" + number);
}

// A contact write's effects beyond its row: the route cache and contact_created.
void SqlStore::AfterContactWrite(WriterStatements& st, int64_t account_id,
                                 const contacts::Written& w, std::vector<Delivery>& created) {
  ForgetContact(account_id, w.contact.number);
  if (w.contact.line) {
    std::lock_guard lock(routes_mu_);
    routes_.insert_or_assign(std::to_string(account_id) + "/" + w.contact.number, *w.contact.line);
  }
  if (w.created) {
    ContactCreated(st, account_id, w.contact.number, w.contact.line.value_or(""), created);
  }
}

// contact_created webhooks for a contact this transaction created.
void SqlStore::ContactCreated(WriterStatements& st, int64_t account_id, const std::string& number,
                              const std::string& line, std::vector<Delivery>& created) {
  const auto targets = Targets(st, 0, account_id, "", "contact_created", line);
  const bool listened = announce_ || (event_wants_ && event_wants_(account_id));
  if (targets.empty() && !listened) return;
  auto c = contacts::Find(writer_db_, account_id, number);
  if (!c) return;
  const std::string payload = contacts::CreatedEventJson(*c);
  if (listened) {
    pending_events_.push_back(StoreEvent{account_id, "contact.created", payload, c->created_at});
  }
  for (const auto& t : targets) {
    created.push_back(
        InsertDelivery(st, 0, t, Status::kQueued, c->created_at, &payload, account_id));
  }
}

// Where an event about a message goes: its status_callback (unless that answered 410 for it)
// and the account's webhooks of `type` that are enabled and, when they name lines, name `line`
// (an empty `line` matches every entry).
std::vector<SqlStore::Target> SqlStore::Targets(WriterStatements& st, int64_t message_id,
                                                int64_t account_id, const std::string& callback,
                                                const char* type, const std::string& line) {
  std::vector<Target> out;
  if (!callback.empty() && !EndpointGone(st, message_id, callback)) {
    out.push_back(Target{"status_callback", callback, ""});
  }
  for (const auto& hook : HooksOf(st, account_id, type)) {
    if (!line.empty() && hook.numbers) {
      if (("," + *hook.numbers + ",").find("," + line + ",") == std::string::npos) continue;
    }
    out.push_back(Target{type, hook.url, hook.secret});
  }
  return out;
}

// The account's enabled webhooks of one type, from a cache that only the writer thread touches
// (every change to webhooks goes through it, and clears the cache).
const std::vector<SqlStore::Hook>& SqlStore::HooksOf(WriterStatements& st, int64_t account_id,
                                                     const char* type) {
  auto& by_type = hooks_cache_[account_id];
  auto it = by_type.find(type);
  if (it != by_type.end()) return it->second;
  std::vector<Hook> hooks;
  st.account_hooks.Reset().Bind(account_id).Bind(type);
  while (st.account_hooks.Step()) {
    hooks.push_back(
        Hook{st.account_hooks.Text(0), st.account_hooks.Text(1), st.account_hooks.OptText(2)});
  }
  st.account_hooks.Reset();
  return by_type.emplace(type, std::move(hooks)).first->second;
}

// `payload` and `account_id` for non-message events (message_id 0); such deliveries are also
// marked re-queued, so a server other than the writing process picks them up.
Delivery SqlStore::InsertDelivery(WriterStatements& st, int64_t message_id, const Target& target,
                                  Status status, TimePoint at, const std::string* payload,
                                  int64_t account_id) {
  Delivery d;
  if (payload) d.payload = *payload;
  d.message_id = message_id;
  d.kind = target.kind;
  d.url = target.url;
  d.secret = target.secret;
  d.status = status;
  d.event_at = at;
  d.next_attempt_at = at;
  const std::optional<int64_t> id =
      postgres_ ? std::optional(NextId(st.delivery_ids, delivery_ids_)) : std::nullopt;
  Stmt& s = st.insert_delivery.Reset();
  s.Bind(id)
      .Bind(message_id)
      .Bind(d.kind)
      .Bind(d.url)
      .Bind(std::string())  // the secret stays in the configuration (see rows.cc)
      .Bind(StatusName(status))
      .Bind(ToUnixMillis(at))
      .Bind(ToUnixMillis(at))
      .Bind(ToUnixMillis(at))
      .Bind(delivery_owner_.empty() ? std::nullopt : std::optional<std::string>(delivery_owner_));
  d.owner = delivery_owner_ == node_id_ ? "" : delivery_owner_;
  if (id) {
    d.id = *id;
    s.ExecDeferred();
  } else {
    s.Exec();
    d.id = s.LastInsertId();
  }
  if (payload) {
    st.event_payload.Reset().Bind(*payload).Bind(account_id).Bind(d.id).ExecDeferred();
  }
  return d;
}

// Writes the message row; returns its id.
int64_t SqlStore::InsertMessage(WriterStatements& st, const Message& m) {
  const std::optional<int64_t> id =
      postgres_ ? std::optional(NextId(st.message_ids, message_ids_)) : std::nullopt;
  if (postgres_ && !isolating_) {
    new_messages_.Add(*id, m);  // written with the batch's others (WriteNewMessages)
    return *id;
  }
  auto& s = st.insert_message.Reset();
  s.Bind(id)
      .Bind(m.handle)
      .Bind(m.account_id)
      .Bind(m.line_number)
      .Bind(m.contact)
      .Bind(m.is_outbound)
      .Bind(m.content)
      .Bind(m.media_url)
      .Bind(m.send_style)
      .Bind(m.status_callback)
      .Bind(StatusName(m.status));
  BindError(s, m.error);
  s.Bind(ServiceName(m.service))
      .Bind(m.was_downgraded)
      .Bind(m.message_type)
      .Bind(m.group_id)
      .Bind(m.opted_out)
      .Bind(ToUnixMillis(m.date_created))
      .Bind(ToUnixMillis(m.date_updated))
      .Bind(m.new_contact)
      .Bind(ParticipantsText(m.participants));
  if (id) {
    s.ExecDeferred();  // pipelined: its id is known already
    return *id;
  }
  s.Exec();
  return s.LastInsertId();
}

// An id from the table's sequence, taken hundreds at a time (PostgreSQL): an insert that need
// not wait to learn its id is pipelined with the rest of the batch. A batch rolled back leaves
// gaps, as sequences do.
int64_t SqlStore::NextId(Stmt& take, std::deque<int64_t>& pool) {
  if (pool.empty()) {
    take.Reset();
    while (take.Step()) pool.push_back(take.Int(0));
    take.Reset();
  }
  const int64_t id = pool.front();
  pool.pop_front();
  return id;
}

Result<Message> SqlStore::InsertGroupMessage(WriterStatements& st, Message m,
                                             std::vector<Delivery>& created) {
  m.new_contact = false;
  m.id = InsertMessage(st, m);
  const char* type = m.is_outbound ? "outbound" : "receive";
  const auto targets = Targets(st, m.id, m.account_id, m.status_callback, type, m.line_number);
  const std::vector<Status> statuses =
      m.is_outbound ? std::vector<Status>{Status::kRegistered, Status::kPending, m.status}
                    : std::vector<Status>{m.status};
  for (Status status : statuses) {
    for (const auto& t : targets) {
      created.push_back(InsertDelivery(st, m.id, t, status, m.date_created));
    }
  }
  return m;
}

// The node holding the line's lease at the batch's start (this node when none does), as the
// batch's prefetch read it for every line its accepts name.
const std::string& SqlStore::LineHolder(const std::string& line) const {
  auto it = holders_.find(line);
  return it != holders_.end() ? it->second : node_id_;
}

// PostgreSQL: whether a contact_created event would be told (its payload reads the row, so the
// contact is then bound at once).
bool SqlStore::WantsContactCreated(WriterStatements& st, int64_t account_id,
                                   const std::string& line) {
  return announce_ || (event_wants_ && event_wants_(account_id)) ||
         !Targets(st, 0, account_id, "", "contact_created", line).empty();
}

}  // namespace bluegate::store
