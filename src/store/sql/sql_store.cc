#include "store/sql/sql_store.h"

#include <atomic>
#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <unordered_map>
#include <variant>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <spdlog/spdlog.h>

#include "core/json.h"
#include "core/keywords.h"
#include "core/new_contact_window.h"
#include "core/send_request.h"
#include "store/sql/contacts.h"
#include "store/sql/db.h"
#include "store/sql/rows.h"
#include "store/sql/writer.h"

namespace bluegate::store {
namespace {

// How stale contacts.last_message_at may be (it decides the 30-day new-contact window).
constexpr Millis kLastMessageGranularity{std::chrono::hours(1)};

constexpr const char* kMessageColumns =
    "m.id, m.handle, m.account_id, a.email, a.plan, m.is_outbound, m.content, m.media_url, "
    "m.send_style, m.status_callback, m.status, m.error_code, m.error_message, m.error_reason, "
    "m.error_detail, m.line_number, m.contact, m.service, m.was_downgraded, m.message_type, "
    "m.group_id, m.opted_out, m.created_at, m.updated_at, m.read_at, m.new_contact, "
    "m.participants, g.display_name";
constexpr const char* kMessageFrom =
    " FROM messages m JOIN accounts a ON a.id = m.account_id LEFT JOIN groups g ON g.id = "
    "m.group_id AND m.group_id != '' ";

// lines.settings: a JSON object with only the fields `bluegate lines set` gave.
std::string LineSettingsJson(const LineSettings& ls) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  if (ls.burst_per_second) {
    w.Key("burst_per_second");
    w.Double(*ls.burst_per_second);
  }
  auto integer = [&w](const char* key, std::optional<int64_t> v) {
    if (!v) return;
    w.Key(key);
    w.Int64(*v);
  };
  integer("queue_capacity", ls.queue_capacity);
  integer("new_contacts_per_day", ls.new_contacts_per_day);
  integer("new_contacts_per_hour", ls.new_contacts_per_hour);
  if (ls.new_contact_after) integer("new_contact_after_ms", ls.new_contact_after->count());
  if (ls.resolve_timeout) integer("resolve_timeout_ms", ls.resolve_timeout->count());
  if (ls.shared) {
    w.Key("shared");
    w.Bool(*ls.shared);
  }
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

LineSettings ParseLineSettings(const std::string& json) {
  LineSettings ls;
  rapidjson::Document d;
  if (!ParseJson(json, d) || !d.IsObject()) return ls;
  auto integer = [&d](const char* key) -> std::optional<int64_t> {
    auto it = d.FindMember(key);
    if (it == d.MemberEnd() || !it->value.IsInt64()) return std::nullopt;
    return it->value.GetInt64();
  };
  if (auto it = d.FindMember("burst_per_second"); it != d.MemberEnd() && it->value.IsNumber())
    ls.burst_per_second = it->value.GetDouble();
  ls.queue_capacity = integer("queue_capacity");
  ls.new_contacts_per_day = integer("new_contacts_per_day");
  ls.new_contacts_per_hour = integer("new_contacts_per_hour");
  if (auto v = integer("new_contact_after_ms")) ls.new_contact_after = Millis(*v);
  if (auto v = integer("resolve_timeout_ms")) ls.resolve_timeout = Millis(*v);
  if (auto it = d.FindMember("shared"); it != d.MemberEnd() && it->value.IsBool())
    ls.shared = it->value.GetBool();
  return ls;
}

constexpr const char* kLineColumns = "number, account_id, carrier, options, settings";

Line ReadLine(const Stmt& s) {
  return Line{s.Text(0), s.Int(1), s.Text(2), s.Text(3), ParseLineSettings(s.Text(4))};
}

void RecordLineChange(Db* db, std::string_view number, TimePoint at) {
  Stmt s(db, "INSERT INTO line_changes(number, at) VALUES (?, ?)");
  s.Bind(number).Bind(ToUnixMillis(at)).Exec();
}

// messages.participants: NULL for a 1:1 message.
std::optional<std::string> ParticipantsText(const std::vector<std::string>& participants) {
  if (participants.empty()) return std::nullopt;
  std::string out;
  for (const auto& p : participants) out += (out.empty() ? "" : ",") + p;
  return out;
}

Message ReadMessage(const Stmt& s) {
  Message m;
  m.id = s.Int(0);
  m.handle = s.Text(1);
  m.account_id = s.Int(2);
  m.account_email = s.Text(3);
  m.plan = s.Text(4);
  m.is_outbound = s.Int(5) != 0;
  m.content = s.Text(6);
  m.media_url = s.Text(7);
  m.send_style = s.Text(8);
  m.status_callback = s.Text(9);
  m.status = StatusFromName(s.Text(10)).value_or(Status::kError);
  if (!s.IsNull(11)) {
    MessageError e;
    e.code = ErrorCodeFromString(s.Text(11)).value_or(ErrorCode::kInternal);
    e.message = s.Text(12);
    e.reason = s.OptText(13);
    e.detail = s.OptText(14);
    m.error = std::move(e);
  }
  m.line_number = s.Text(15);
  m.contact = s.Text(16);
  m.service = ServiceFromName(s.Text(17)).value_or(Service::kIMessage);
  if (!s.IsNull(18)) m.was_downgraded = s.Int(18) != 0;
  m.message_type = s.Text(19);
  m.group_id = s.Text(20);
  m.opted_out = s.Int(21) != 0;
  m.date_created = FromUnixMillis(s.Int(22));
  m.date_updated = FromUnixMillis(s.Int(23));
  if (!s.IsNull(24)) m.date_read = FromUnixMillis(s.Int(24));
  m.new_contact = s.Int(25) != 0;
  if (!s.IsNull(26)) {
    // A comma-separated list of E.164 numbers (no number holds a comma).
    const std::string list = s.Text(26);
    for (size_t start = 0; start < list.size();) {
      const size_t comma = list.find(',', start);
      const size_t end = comma == std::string::npos ? list.size() : comma;
      if (end > start) m.participants.push_back(list.substr(start, end - start));
      start = end + 1;
    }
  }
  m.group_display_name = s.Text(27);
  return m;
}

// A PostgreSQL array literal ("{a,b,c}") of ids or E.164 numbers, which need no quoting.
class ArrayLiteral {
 public:
  void Add(std::string_view v) {
    if (!items_.empty()) items_ += ',';
    items_ += v;
  }
  bool empty() const { return items_.empty(); }
  std::string text() const { return "{" + items_ + "}"; }

 private:
  std::string items_;
};

// A new re-queue mark, larger than every earlier one (webhook_deliveries.requeued_at).
std::string NextRequeueMark(Db* db) {
  return db->engine() == Engine::kPostgres
             ? "nextval('requeue_marks')"
             : "(SELECT COALESCE(MAX(requeued_at), 0) + 1 FROM webhook_deliveries)";
}

// Statements of the writer connection, prepared once.
struct WriterStatements {
  explicit WriterStatements(Db* db)
      : insert_message(
            db,
            // id: NULL (SQLite picks it) or one the writer took from the sequence (PostgreSQL).
            "INSERT INTO messages(id, handle, account_id, line_number, contact, is_outbound, "
            "content, media_url, send_style, status_callback, status, error_code, "
            "error_message, error_reason, error_detail, service, was_downgraded, "
            "message_type, group_id, opted_out, created_at, updated_at, new_contact, "
            "participants) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) RETURNING id"),
        contact_opted_out(db,
                          "SELECT opted_out, line_number, last_message_at, verified_at IS NOT "
                          "NULL, deleted_at IS NOT NULL FROM contacts WHERE account_id = ? AND "
                          "number = ?"),
        // Creates and binds a contact, binds an unbound one, brings a deleted one back (as a
        // new contact), and notes the message's time.
        bind_contact(db,
                     "INSERT INTO contacts(account_id, number, opted_out, created_at, updated_at, "
                     "line_number, bound_at, last_message_at, contact_id) "
                     "VALUES (?1, ?2, 0, ?3, ?3, ?4, ?3, ?3, ?5) "
                     "ON CONFLICT(account_id, number) DO UPDATE SET "
                     "bound_at = COALESCE(contacts.bound_at, ?3), "
                     "line_number = COALESCE(contacts.line_number, ?4), last_message_at = ?3, "
                     "contact_id = CASE WHEN contacts.deleted_at IS NULL THEN contacts.contact_id "
                     "ELSE ?5 END, created_at = CASE WHEN contacts.deleted_at IS NULL THEN "
                     "contacts.created_at ELSE ?3 END, deleted_at = NULL RETURNING line_number"),
        inbound_contact(db,
                        "UPDATE contacts SET opted_out = COALESCE(?1, opted_out), "
                        "verified_at = COALESCE(verified_at, ?2), updated_at = ?2 "
                        "WHERE account_id = ?3 AND number = ?4"),
        message_state(db,
                      "SELECT status, service, status_callback, account_id, is_outbound, "
                      "line_number FROM messages WHERE id = ?"),
        check_bindings(db, db->engine() == Engine::kPostgres
                               // (LATERAL with LIMIT: one primary-key probe per contact, whatever
                               // the plan cached for the statement guessed of the arrays' size.)
                               ? "SELECT COUNT(*) FROM unnest(CAST(? AS BIGINT[]), CAST(? AS "
                                 "TEXT[]), CAST(? AS TEXT[])) AS k(account_id, number, line) CROSS "
                                 "JOIN LATERAL (SELECT line_number FROM contacts c WHERE "
                                 "c.account_id = k.account_id AND c.number = k.number LIMIT 1) c "
                                 "WHERE c.line_number IS DISTINCT FROM k.line"
                               : "SELECT ?, ?, ?"),
        contact_states(db, db->engine() == Engine::kPostgres
                               ? "SELECT k.account_id, k.number, c.opted_out, c.line_number, "
                                 "c.last_message_at, c.verified, c.deleted FROM unnest(CAST(? AS "
                                 "BIGINT[]), CAST(? AS TEXT[])) AS k(account_id, number) CROSS "
                                 "JOIN LATERAL (SELECT opted_out, line_number, last_message_at, "
                                 "verified_at IS NOT NULL AS verified, deleted_at IS NOT NULL AS "
                                 "deleted FROM contacts c WHERE c.account_id = k.account_id AND "
                                 "c.number = k.number LIMIT 1) c"
                               : "SELECT ?, ?"),
        message_states(db, db->engine() == Engine::kPostgres
                               ? "SELECT id, status, service, status_callback, account_id, "
                                 "is_outbound, line_number FROM messages WHERE id = ANY(CAST(? AS "
                                 "BIGINT[])) FOR UPDATE"
                               : "SELECT ?"),
        account_hooks(db,
                      "SELECT w.url, COALESCE(w.secret, a.webhook_secret, ''), w.sendblue_numbers "
                      "FROM account_webhooks w JOIN accounts a ON a.id = w.account_id "
                      "WHERE w.account_id = ? AND w.type = ? AND w.disabled_at IS NULL "
                      "ORDER BY w.position"),
        disable_hook(
            db,
            "UPDATE account_webhooks SET disabled_at = ?1 WHERE url = ?2 AND disabled_at IS "
            "NULL AND account_id = (SELECT account_id FROM messages WHERE id = ?3)"),
        update_status(db,
                      "UPDATE messages SET status = ?1, updated_at = ?2, error_code = ?3, "
                      "error_message = ?4, error_reason = ?5, error_detail = ?6, "
                      "service = COALESCE(?7, service), was_downgraded = COALESCE(?8, "
                      "was_downgraded), accepted_at = CASE WHEN ?1 = 'ACCEPTED' THEN ?2 ELSE "
                      "accepted_at END WHERE id = ?9"),
        insert_event(db,
                     "INSERT INTO message_events(message_id, status, at, applied, source) "
                     "VALUES (?,?,?,?,?)"),
        mark_read(db, "UPDATE messages SET read_at = COALESCE(read_at, ?) WHERE id = ?"),
        load_message(db,
                     std::string("SELECT ") + kMessageColumns + kMessageFrom + "WHERE m.id = ?"),
        endpoint_gone(db,
                      "SELECT 1 FROM webhook_deliveries WHERE message_id = ? AND url = ? AND "
                      "state = 'disabled' LIMIT 1"),
        insert_delivery(db,
                        "INSERT INTO webhook_deliveries(id, message_id, kind, url, secret, status, "
                        "event_at, state, attempts, next_attempt_at, updated_at, owner) "
                        "VALUES (?,?,?,?,?,?,?,'pending',0,?,?,?) RETURNING id"),
        event_payload(
            db, std::string(
                    "UPDATE webhook_deliveries SET payload = ?1, account_id = ?2, requeued_at = ") +
                    NextRequeueMark(db) + " WHERE id = ?3"),
        update_delivery(db,
                        "UPDATE webhook_deliveries SET state = ?, attempts = attempts + 1, "
                        "next_attempt_at = COALESCE(?, next_attempt_at), last_http_status = ?, "
                        "last_latency_ms = ?, last_error = ?, updated_at = ? WHERE id = ?"),
        insert_attempt(
            db,
            "INSERT INTO webhook_attempts(delivery_id, at, http_status, latency_ms, error) "
            "VALUES (?,?,?,?,?)"),
        epochs(db,
               "SELECT (SELECT value FROM store_epochs WHERE name = 'webhooks'), (SELECT value "
               "FROM store_epochs WHERE name = 'contacts')"),
        bump_contacts_epoch(db,
                            "UPDATE store_epochs SET value = value + 1 WHERE name = 'contacts'"),
        message_ids(db, db->engine() == Engine::kPostgres
                            ? "SELECT nextval(pg_get_serial_sequence('messages', 'id')) FROM "
                              "generate_series(1, 512)"
                            : "SELECT 0"),
        delivery_ids(db, db->engine() == Engine::kPostgres
                             ? "SELECT nextval(pg_get_serial_sequence('webhook_deliveries', "
                               "'id')) FROM generate_series(1, 1024)"
                             : "SELECT 0"),
        // (Scale-out only: SQLite has no line_leases, and never runs it.)
        line_holder(db, db->engine() == Engine::kPostgres
                            ? "SELECT node_id FROM line_leases WHERE line_number = ? AND "
                              "expires_at > (EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::BIGINT"
                            : "SELECT ?"),
        bump_webhooks_epoch(db,
                            "UPDATE store_epochs SET value = value + 1 WHERE name = 'webhooks'"),
        announce(db, std::string("UPDATE webhook_deliveries SET requeued_at = ") +
                         NextRequeueMark(db) + " WHERE id = ?") {}

  Stmt insert_message, contact_opted_out, bind_contact, inbound_contact, message_state,
      check_bindings, contact_states, message_states, account_hooks, disable_hook, update_status,
      insert_event, mark_read, load_message, endpoint_gone, insert_delivery, event_payload,
      update_delivery, insert_attempt, epochs, bump_contacts_epoch, message_ids, delivery_ids,
      line_holder, bump_webhooks_epoch, announce;
};

// A read (or admin) connection with its prepared statements, kept across calls: preparing a
// statement costs more than running most of these queries.
struct Conn {
  explicit Conn(std::unique_ptr<Db> d) : owned(std::move(d)), db(owned.get()) {}
  ~Conn() { stmts.clear(); }
  // The statement for `sql`, reset and ready to bind. Reset again by ResetAll() after the call.
  Stmt& Prepare(const std::string& sql) {
    auto& slot = stmts[sql];
    if (!slot) slot = std::make_unique<Stmt>(db, sql);
    used.push_back(slot.get());
    return slot->Reset();
  }
  // Ends every statement's read so the connection holds no snapshot between calls (a held
  // snapshot would stop checkpoints from recycling the WAL).
  void ResetAll() {
    for (Stmt* st : used) st->Reset();
    used.clear();
  }
  std::unique_ptr<Db> owned;
  Db* db;
  std::unordered_map<std::string, std::unique_ptr<Stmt>> stmts;
  std::vector<Stmt*> used;
};

class SqlStore final : public Store, private BatchHooks {
 public:
  SqlStore(SqlEngine engine, Clock& clock) : engine_(std::move(engine)), clock_(clock) {
    writer_owned_ = engine_.connect(32768);
    writer_db_ = writer_owned_.get();
    postgres_ = writer_db_->engine() == Engine::kPostgres;
    node_id_ = engine_.node_id;
    engine_.migrate(*writer_db_);
    stmts_ = std::make_unique<WriterStatements>(writer_db_);
    if (engine_.housekeeping) housekeeping_db_ = engine_.connect(2000);
    BatchHooks& hooks = *this;
    writer_ = std::make_unique<Writer>(
        *writer_db_, hooks, WriterSettings{engine_.max_batch, engine_.full_disk_retry, Millis(250)});
    if (housekeeping_db_) housekeeper_ = std::thread([this] { HousekeepingLoop(); });
  }

  ~SqlStore() override {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    housekeeping_cv_.notify_all();
    writer_->Stop();
    if (housekeeper_.joinable()) housekeeper_.join();
    housekeeping_db_.reset();
    stmts_.reset();
    writer_owned_.reset();
    readers_.clear();
  }

  // --- admin ---
  Result<Account> CreateAccount(std::string_view email, std::string_view plan) override {
    return AdminWrite<Account>([&](Conn& c) -> Result<Account> {
      Stmt& s =
          c.Prepare("INSERT INTO accounts(email, plan, created_at) VALUES (?,?,?) RETURNING id");
      s.Bind(email).Bind(plan).Bind(ToUnixMillis(clock_.Now()));
      s.Step();
      return Account{s.Int(0), std::string(email), std::string(plan)};
    });
  }

  Result<Account> FindAccount(int64_t id) override {
    return Read<Account>([&](Conn& c) -> Result<Account> {
      Stmt& s = c.Prepare("SELECT id, email, plan FROM accounts WHERE id = ?");
      s.Bind(id);
      if (!s.Step()) return Error::NotFound("no account with id " + std::to_string(id));
      return Account{s.Int(0), s.Text(1), s.Text(2)};
    });
  }

  Result<Account> FindAccountByEmail(std::string_view email) override {
    return Read<Account>([&](Conn& c) -> Result<Account> {
      Stmt& s = c.Prepare("SELECT id, email, plan FROM accounts WHERE email = ?");
      s.Bind(email);
      if (!s.Step()) return Error::NotFound("no account with email " + std::string(email));
      return Account{s.Int(0), s.Text(1), s.Text(2)};
    });
  }

  Result<Ok> AddApiKey(const ApiKey& key) override {
    return AdminWrite<Ok>([&](Conn& c) -> Result<Ok> {
      Stmt& s = c.Prepare(
          "INSERT INTO api_keys(key_id, account_id, salt, secret_hash, created_at) VALUES "
          "(?,?,?,?,?)");
      s.Bind(key.key_id)
          .Bind(key.account_id)
          .Bind(key.salt)
          .Bind(key.secret_hash)
          .Bind(ToUnixMillis(clock_.Now()));
      s.Exec();
      return Ok{};
    });
  }

  Result<ApiKey> FindApiKey(std::string_view key_id) override {
    return Read<ApiKey>([&](Conn& c) -> Result<ApiKey> {
      Stmt& s =
          c.Prepare("SELECT key_id, account_id, salt, secret_hash FROM api_keys WHERE key_id = ?");
      s.Bind(key_id);
      if (!s.Step()) return Error::NotFound("no such API key");
      return ApiKey{s.Text(0), s.Int(1), s.Text(2), s.Text(3)};
    });
  }

  Result<Line> AddLine(const Line& line) override {
    return AdminWrite<Line>([&](Conn& c) -> Result<Line> {
      c.db->Begin();
      Stmt& s = c.Prepare(
          "INSERT INTO lines(number, account_id, carrier, options, settings, created_at) VALUES "
          "(?,?,?,?,?,?)");
      s.Bind(line.number)
          .Bind(line.account_id)
          .Bind(line.carrier)
          .Bind(line.options_json)
          .Bind(LineSettingsJson(line.settings))
          .Bind(ToUnixMillis(clock_.Now()));
      try {
        s.Exec();
        RecordLineChange(c.db, line.number, clock_.Now());
        c.db->Exec("COMMIT");
      } catch (...) {
        c.db->ExecQuietly("ROLLBACK");
        throw;
      }
      return line;
    });
  }

  Result<Line> FindLine(std::string_view number) override {
    return Read<Line>([&](Conn& c) -> Result<Line> {
      Stmt& s = c.Prepare(std::string("SELECT ") + kLineColumns + " FROM lines WHERE number = ?");
      s.Bind(number);
      if (!s.Step()) return Error::NotFound("no line " + std::string(number));
      return ReadLine(s);
    });
  }

  Result<std::vector<Line>> ListLines(std::optional<int64_t> account_id) override {
    return Read<std::vector<Line>>([&](Conn& c) -> Result<std::vector<Line>> {
      Stmt& s =
          c.Prepare(std::string("SELECT ") + kLineColumns + " FROM lines" +
                    (account_id ? " WHERE account_id = ?" : "") + " ORDER BY created_at, number");
      if (account_id) s.Bind(*account_id);
      std::vector<Line> out;
      while (s.Step()) out.push_back(ReadLine(s));
      return out;
    });
  }

  // --- writes ---
  void Accept(Message m, AcceptPolicy policy, std::function<void(Result<Message>)> done) override {
    const int64_t account = m.account_id;
    const std::string contact = m.message_type == "group" ? "" : m.contact;
    Enqueue<Message>(
        [this, m = std::move(m), policy](
            WriterStatements& st, std::vector<Delivery>& created) mutable -> Result<Message> {
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
                    " is shared: it sends only to contacts who have written to it (POST "
                    "/api/v2/contacts/verify asks them to)",
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
        std::move(done), 0, account, contact);
  }

  void Transition(TransitionRequest r,
                  std::function<void(Result<TransitionOutcome>)> done) override {
    const int64_t id = r.message_id;
    Enqueue<TransitionOutcome>(
        [this, r = std::move(r)](WriterStatements& st, std::vector<Delivery>& created)
            -> Result<TransitionOutcome> { return ApplyTransition(st, r, created); },
        std::move(done), id);
  }

  // What a transition reads of its message.
  struct MessageState {
    Status status = Status::kQueued;
    Service service = Service::kIMessage;
    std::string callback;
    int64_t account_id = 0;
    bool outbound = false;
    std::string line;
  };

  static MessageState ReadState(const Stmt& s, int first) {
    return MessageState{StatusFromName(s.Text(first)).value_or(Status::kError),
                        ServiceFromName(s.Text(first + 1)).value_or(Service::kIMessage),
                        s.Text(first + 2),
                        s.Int(first + 3),
                        s.Int(first + 4) != 0,
                        s.Text(first + 5)};
  }

  // PostgreSQL: the states of every message the batch's transitions name, in one round trip
  // (locked for the transaction) instead of one each.
  void PrefetchStates(const std::vector<WriteKeys>& batch) {
    batch_states_.clear();
    if (!postgres_) return;
    ArrayLiteral ids, accounts, numbers;
    std::vector<std::string> keys;  // the accepts' contacts the cache lacks
    if (contacts_stale_.exchange(false, std::memory_order_acq_rel)) contact_cache_.clear();
    for (const auto& op : batch) {
      if (op.message_id > 0) ids.Add(std::to_string(op.message_id));
      if (op.contact.empty()) continue;
      std::string key = std::to_string(op.account_id) + "/" + op.contact;
      if (contact_cache_.contains(key)) continue;
      accounts.Add(std::to_string(op.account_id));
      numbers.Add(op.contact);
      keys.push_back(std::move(key));
    }
    if (!ids.empty()) {
      Stmt& s = stmts_->message_states.Reset().Bind(ids.text());
      while (s.Step()) batch_states_.insert_or_assign(s.Int(0), ReadState(s, 1));
      s.Reset();
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

  Result<TransitionOutcome> ApplyTransition(WriterStatements& st, const TransitionRequest& r,
                                            std::vector<Delivery>& created) {
    MessageState state;
    if (auto it = batch_states_.find(r.message_id); it != batch_states_.end()) {
      state = it->second;
    } else {
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
    auto& s = st.update_status.Reset();
    s.Bind(StatusName(r.to)).Bind(at);
    BindError(s, r.error);
    s.Bind(r.service ? std::optional<std::string_view>(ServiceName(*r.service)) : std::nullopt)
        .Bind(r.was_downgraded)
        .Bind(r.message_id);
    s.ExecDeferred();
    out.status = r.to;
    if (auto it = batch_states_.find(r.message_id); it != batch_states_.end()) {
      it->second.status = r.to;  // a later transition of this batch starts from here
      if (r.service) it->second.service = *r.service;
    }
    if (outbound) {
      for (const auto& t : Targets(st, r.message_id, account_id, callback, "outbound", "")) {
        created.push_back(InsertDelivery(st, r.message_id, t, r.to, r.at));
      }
    }
    return out;
  }

  void MarkRead(int64_t message_id, TimePoint at,
                std::function<void(Result<Message>)> done) override {
    Enqueue<Message>(
        [this, message_id, at](WriterStatements& st, std::vector<Delivery>&) -> Result<Message> {
          st.mark_read.Reset().Bind(ToUnixMillis(at)).Bind(message_id).Exec();
          return LoadMessage(st, message_id);
        },
        std::move(done));
  }

  void RecordInbound(Message m, std::function<void(Result<Message>)> done) override {
    Enqueue<Message>(
        [this, m = std::move(m)](WriterStatements& st,
                                 std::vector<Delivery>& created) mutable -> Result<Message> {
          m.is_outbound = false;
          m.status = Status::kReceived;
          // In a group, a contact's message binds nothing and its keywords opt nobody out.
          if (m.message_type == "group") return InsertGroupMessage(st, std::move(m), created);
          const std::optional<bool> opt = OptOutKeyword(m.content);
          ForgetContact(m.account_id, m.contact);
          st.contact_opted_out.Reset().Bind(m.account_id).Bind(m.contact);
          const bool new_contact = !st.contact_opted_out.Step() || st.contact_opted_out.Int(4);
          st.contact_opted_out.Reset();
          // An inbound message binds an unbound contact to the line it wrote to, and verifies
          // the contact (shared lines send only to contacts who wrote first).
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
        },
        std::move(done));
  }

  void RecordEvent(int64_t account_id, std::string type, std::string payload,
                   std::optional<std::string> line, std::function<void(Result<Ok>)> done) override {
    Enqueue<Ok>(
        [this, account_id, type = std::move(type), payload = std::move(payload),
         line = std::move(line)](WriterStatements& st,
                                 std::vector<Delivery>& created) -> Result<Ok> {
          const TimePoint now = clock_.Now();
          for (auto& t : Targets(st, 0, account_id, "", type.c_str(), line.value_or(""))) {
            Delivery d = InsertDelivery(st, 0, t, Status::kQueued, now, &payload, account_id);
            created.push_back(std::move(d));
          }
          return Ok{};
        },
        std::move(done));
  }

  void RecordAttempt(DeliveryAttempt a, std::function<void(Result<Ok>)> done) override {
    Enqueue<Ok>(
        [this, a = std::move(a)](WriterStatements& st, std::vector<Delivery>&) -> Result<Ok> {
          const int64_t at = ToUnixMillis(a.at);
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
          if (a.first_try_success) return Ok{};
          st.insert_attempt.Reset()
              .Bind(a.delivery_id)
              .Bind(at)
              .Bind(a.http_status ? std::optional<int64_t>(a.http_status) : std::nullopt)
              .Bind(static_cast<int64_t>(a.latency.count()))
              .Bind(a.error.empty() ? std::nullopt : std::optional<std::string>(a.error))
              .ExecDeferred();
          return Ok{};
        },
        std::move(done));
  }

  void SetEventObserver(
      std::function<bool(int64_t)> wants,
      std::function<void(int64_t, const std::string&, const std::string&, TimePoint)> publish)
      override {
    std::lock_guard lock(mu_);
    event_wants_ = std::move(wants);
    event_publish_ = std::move(publish);
  }

  void SetDeliveryObserver(std::function<void(std::vector<Delivery>)> observer) override {
    std::lock_guard lock(mu_);
    observer_ = std::move(observer);
  }

  // --- reads ---
  Result<Message> FindMessage(int64_t account_id, std::string_view handle) override {
    return Read<Message>([&](Conn& c) -> Result<Message> {
      Stmt& s = c.Prepare(std::string("SELECT ") + kMessageColumns + kMessageFrom +
                          "WHERE m.handle = ? AND m.account_id = ?");
      s.Bind(handle).Bind(account_id);
      if (!s.Step()) return Error::NotFound("no message with handle " + std::string(handle));
      return ReadMessage(s);
    });
  }

  Result<Message> FindMessageById(int64_t id) override {
    return Read<Message>([&](Conn& c) -> Result<Message> {
      Stmt& s =
          c.Prepare(std::string("SELECT ") + kMessageColumns + kMessageFrom + "WHERE m.id = ?");
      s.Bind(id);
      if (!s.Step()) return Error::NotFound("no message with id " + std::to_string(id));
      return ReadMessage(s);
    });
  }

  Result<MessagePage> ListMessages(const MessageQuery& q) override {
    return Read<MessagePage>([&](Conn& c) -> Result<MessagePage> {
      // With a contact on SQLite, the conversation's ids drive the query (the unary + keeps it
      // from walking the account's whole history by its created_at index instead).
      std::string where =
          q.number && !postgres_ ? " WHERE +m.account_id = ?" : " WHERE m.account_id = ?";
      std::vector<std::variant<int64_t, std::string>> args{q.account_id};
      auto add = [&](const char* clause, auto value) {
        where += clause;
        args.emplace_back(value);
      };
      if (q.number && postgres_) {
        // PostgreSQL: an index on (account_id, contact, created_at). Several nodes' transactions
        // commit out of id order, which a watermark cannot follow.
        add(" AND m.contact = ?", *q.number);
      } else if (q.number) {
        // A conversation's messages: those the indexer has filed under the contact, and the few
        // newer than its watermark (see IndexConversations).
        where +=
            " AND m.contact = ? AND m.id IN (SELECT message_id FROM conversations WHERE "
            "account_id = ? AND contact = ? UNION ALL SELECT id FROM messages WHERE id > (SELECT "
            "id FROM conversation_watermark) AND +account_id = ? AND +contact = ?)";
        args.emplace_back(*q.number);
        args.emplace_back(q.account_id);
        args.emplace_back(*q.number);
        args.emplace_back(q.account_id);
        args.emplace_back(*q.number);
      }
      if (q.line) add(" AND m.line_number = ?", *q.line);
      if (q.from_number) {
        where +=
            " AND ((m.is_outbound = 1 AND m.line_number = ?) OR (m.is_outbound = 0 AND m.contact = "
            "?))";
        args.emplace_back(*q.from_number);
        args.emplace_back(*q.from_number);
      }
      if (q.to_number) {
        where +=
            " AND ((m.is_outbound = 1 AND m.contact = ?) OR (m.is_outbound = 0 AND m.line_number = "
            "?))";
        args.emplace_back(*q.to_number);
        args.emplace_back(*q.to_number);
      }
      if (q.group_id) add(" AND m.group_id = ?", *q.group_id);
      if (q.message_type) add(" AND m.message_type = ?", *q.message_type);
      if (q.is_outbound) add(" AND m.is_outbound = ?", int64_t{*q.is_outbound ? 1 : 0});
      if (q.status) add(" AND m.status = ?", std::string(StatusName(*q.status)));
      if (q.service) add(" AND m.service = ?", std::string(ServiceName(*q.service)));
      if (q.created_gte) add(" AND m.created_at >= ?", ToUnixMillis(*q.created_gte));
      if (q.created_lte) add(" AND m.created_at <= ?", ToUnixMillis(*q.created_lte));
      if (q.updated_gte) add(" AND m.updated_at >= ?", ToUnixMillis(*q.updated_gte));
      if (q.updated_lte) add(" AND m.updated_at <= ?", ToUnixMillis(*q.updated_lte));
      auto bind_all = [&](Stmt& s) {
        for (const auto& a : args) {
          if (const auto* i = std::get_if<int64_t>(&a))
            s.Bind(*i);
          else
            s.Bind(std::get<std::string>(a));
        }
      };
      MessagePage page;
      Stmt& count = c.Prepare(std::string("SELECT COUNT(*) FROM messages m") + where);
      bind_all(count);
      count.Step();
      page.total = count.Int(0);
      const char* column =
          q.order_by == MessageQuery::Order::kUpdated ? "m.updated_at" : "m.created_at";
      const char* dir = q.descending ? " DESC" : " ASC";
      Stmt& s = c.Prepare(std::string("SELECT ") + kMessageColumns + kMessageFrom + where +
                          " ORDER BY " + column + dir + ", m.id" + dir + " LIMIT ? OFFSET ?");
      bind_all(s);
      s.Bind(int64_t{q.limit}).Bind(int64_t{q.offset});
      while (s.Step()) page.data.push_back(ReadMessage(s));
      return page;
    });
  }

  Result<std::vector<Message>> UnfinishedOutbound(std::optional<std::string> line) override {
    return Read<std::vector<Message>>([&](Conn& c) -> Result<std::vector<Message>> {
      Stmt& s = c.Prepare(std::string("SELECT ") + kMessageColumns + kMessageFrom +
                          "WHERE (m.status IN ('QUEUED', 'ACCEPTED') OR (m.status = 'SENT' AND "
                          "m.service = 'iMessage')) "
                          "AND m.is_outbound = 1" +
                          (line ? " AND m.line_number = ?" : "") + " ORDER BY m.id");
      if (line) s.Bind(*line);
      std::vector<Message> out;
      while (s.Step()) out.push_back(ReadMessage(s));
      return out;
    });
  }

  Result<std::vector<Delivery>> PendingDeliveries() override { return Pending(std::nullopt); }

  Result<std::vector<Delivery>> PendingDeliveriesOf(int64_t message_id) override {
    return Pending(message_id);
  }

  // Deliveries still due (of one message, or all) that are this node's: on PostgreSQL each node
  // dispatches its own, and the others' are claimed when their node goes.
  Result<std::vector<Delivery>> Pending(std::optional<int64_t> message_id) {
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

  Result<std::vector<Delivery>> DeliveriesForMessage(int64_t message_id) override {
    return Read<std::vector<Delivery>>([&](Conn& c) -> Result<std::vector<Delivery>> {
      Stmt& s = c.Prepare(std::string("SELECT ") + kDeliveryColumns +
                          " FROM webhook_deliveries WHERE message_id = ? ORDER BY id");
      s.Bind(message_id);
      std::vector<Delivery> out;
      while (s.Step()) out.push_back(ReadDelivery(s));
      return out;
    });
  }

  bool healthy() const override { return writer_->healthy(); }
  uint64_t ConnectionLosses() const override { return writer_->ConnectionLosses(); }
  void Flush() override { writer_->Flush(); }

 private:
  static void BindError(Stmt& s, const std::optional<MessageError>& e) {
    if (e) {
      s.Bind(ErrorCodeToString(e->code)).Bind(e->message).Bind(e->reason).Bind(e->detail);
    } else {
      s.BindNull().BindNull().BindNull().BindNull();
    }
  }

  Message LoadMessage(WriterStatements& st, int64_t id) {
    st.load_message.Reset().Bind(id);
    st.load_message.Step();
    Message m = ReadMessage(st.load_message);
    st.load_message.Reset();
    return m;
  }

  // The receiver answered 410 Gone for this message: write no more deliveries to it.
  static bool EndpointGone(WriterStatements& st, int64_t message_id, const std::string& url) {
    st.endpoint_gone.Reset().Bind(message_id).Bind(url);
    const bool gone = st.endpoint_gone.Step();
    st.endpoint_gone.Reset();
    return gone;
  }

  // The contact columns Accept needs, from a cache only the writer thread touches: with a million
  // contacts the row is rarely in SQLite's page cache. Every other contact write on this thread
  // drops its entry (or all of them), a rollback drops all, and ForgetRoutes (a line removed by
  // another process) marks the cache stale.
  struct ContactState {
    bool row = false;   // a row exists (maybe a deleted contact)
    bool live = false;  // a contact that is not deleted
    bool opted_out = false;
    bool verified = false;
    std::optional<std::string> line;
    std::optional<int64_t> last_message;
  };

  ContactState& CachedContact(WriterStatements& st, const std::string& key, int64_t account_id,
                              const std::string& number) {
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
  static ContactState ReadContactState(const Stmt& s, int first) {
    ContactState c;
    c.row = true;
    c.opted_out = s.Int(first) != 0;
    c.line = s.OptText(first + 1);
    if (!s.IsNull(first + 2)) c.last_message = s.Int(first + 2);
    c.verified = s.Int(first + 3) != 0;
    c.live = s.Int(first + 4) == 0;
    return c;
  }

  void ForgetContact(int64_t account_id, const std::string& number) {
    contact_cache_.erase(std::to_string(account_id) + "/" + number);
  }

  // A contact write's effects beyond its row: the route cache and contact_created.
  void AfterContactWrite(WriterStatements& st, int64_t account_id, const contacts::Written& w,
                         std::vector<Delivery>& created) {
    ForgetContact(account_id, w.contact.number);
    if (w.contact.line) {
      std::lock_guard lock(routes_mu_);
      routes_.insert_or_assign(std::to_string(account_id) + "/" + w.contact.number,
                               *w.contact.line);
    }
    if (w.created) {
      ContactCreated(st, account_id, w.contact.number, w.contact.line.value_or(""), created);
    }
  }

  // contact_created webhooks for a contact this transaction created.
  void ContactCreated(WriterStatements& st, int64_t account_id, const std::string& number,
                      const std::string& line, std::vector<Delivery>& created) {
    const auto targets = Targets(st, 0, account_id, "", "contact_created", line);
    const bool listened = event_wants_ && event_wants_(account_id);
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

  struct Target {
    std::string kind;
    std::string url;
    std::string secret;
  };

  // Where an event about a message goes: its status_callback (unless that answered 410 for it)
  // and the account's webhooks of `type` that are enabled and, when they name lines, name `line`
  // (an empty `line` matches every entry).
  std::vector<Target> Targets(WriterStatements& st, int64_t message_id, int64_t account_id,
                              const std::string& callback, const char* type,
                              const std::string& line) {
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

  struct Hook {
    std::string url;
    std::string secret;  // the entry's, or the account's global one
    std::optional<std::string> numbers;
  };

  // The account's enabled webhooks of one type, from a cache that only the writer thread touches
  // (every change to webhooks goes through it, and clears the cache).
  const std::vector<Hook>& HooksOf(WriterStatements& st, int64_t account_id, const char* type) {
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
  Delivery InsertDelivery(WriterStatements& st, int64_t message_id, const Target& target,
                          Status status, TimePoint at, const std::string* payload = nullptr,
                          int64_t account_id = 0) {
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
      s.Step();
      d.id = s.Int(0);
      s.Reset();
    }
    if (payload) {
      st.event_payload.Reset().Bind(*payload).Bind(account_id).Bind(d.id).ExecDeferred();
    }
    return d;
  }

  // --- account webhooks ---

  static WebhookConfig LoadWebhooks(Db* db, int64_t account_id) {
    WebhookConfig config;
    for (const char* type : kWebhookTypes) config.by_type[type];
    Stmt secret(db, "SELECT webhook_secret FROM accounts WHERE id = ?");
    secret.Bind(account_id);
    if (secret.Step() && !secret.IsNull(0)) config.global_secret = secret.Text(0);
    Stmt rows(
        db,
        "SELECT type, url, secret, sendblue_numbers, plain, disabled_at FROM account_webhooks "
        "WHERE account_id = ? ORDER BY type, position");
    rows.Bind(account_id);
    while (rows.Step()) {
      WebhookEntry e;
      e.url = rows.Text(1);
      e.secret = rows.OptText(2);
      if (!rows.IsNull(3)) {
        std::vector<std::string> numbers;
        const std::string list = rows.Text(3);
        for (size_t start = 0; start <= list.size();) {
          const size_t comma = list.find(',', start);
          const std::string n =
              list.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
          if (!n.empty()) numbers.push_back(n);
          if (comma == std::string::npos) break;
          start = comma + 1;
        }
        e.sendblue_numbers = std::move(numbers);
      }
      e.plain = rows.Int(4) != 0;
      if (!rows.IsNull(5)) e.disabled_at = FromUnixMillis(rows.Int(5));
      config.by_type[rows.Text(0)].push_back(std::move(e));
    }
    return config;
  }

  static void InsertWebhook(Db* db, int64_t account_id, const std::string& type,
                            const WebhookEntry& e, int64_t position) {
    Stmt s(db,
           "INSERT INTO account_webhooks(account_id, type, url, secret, sendblue_numbers, plain, "
           "position) VALUES (?,?,?,?,?,?,?) ON CONFLICT(account_id, type, url) DO UPDATE SET "
           "secret = excluded.secret, sendblue_numbers = excluded.sendblue_numbers, plain = "
           "excluded.plain, disabled_at = NULL");
    std::optional<std::string> numbers;
    if (e.sendblue_numbers) {
      numbers = std::string();
      for (const auto& n : *e.sendblue_numbers) *numbers += (numbers->empty() ? "" : ",") + n;
    }
    s.Bind(account_id)
        .Bind(type)
        .Bind(e.url)
        .Bind(e.secret)
        .Bind(numbers)
        .Bind(e.plain)
        .Bind(position);
    s.Exec();
  }

  static void SetGlobalSecret(Db* db, int64_t account_id,
                              const std::optional<std::string>& secret) {
    Stmt s(db, "UPDATE accounts SET webhook_secret = ? WHERE id = ?");
    s.Bind(secret).Bind(account_id).Exec();
  }

  // Runs `apply` on the writer thread inside its transaction and waits for the commit.
  template <typename T, typename Fn>
  Result<T> WriteSync(Fn apply) {
    std::promise<Result<T>> promise;
    auto future = promise.get_future();
    Enqueue<T>(std::move(apply), [&promise](Result<T> r) { promise.set_value(std::move(r)); });
    return future.get();
  }

 public:
  // Bindings never change once made, so bound routes are cached (the writer adds the ones it
  // makes); an unbound contact is looked up each time until it is bound.
  std::optional<std::string> KnownRoute(int64_t account_id, std::string_view contact) override {
    std::lock_guard lock(routes_mu_);
    auto it = routes_.find(std::to_string(account_id) + "/" + std::string(contact));
    if (it == routes_.end()) return std::nullopt;
    return it->second;
  }

  Result<std::optional<std::string>> FindRoute(int64_t account_id,
                                               std::string_view contact) override {
    std::string key = std::to_string(account_id) + "/" + std::string(contact);
    {
      std::lock_guard lock(routes_mu_);
      if (auto it = routes_.find(key); it != routes_.end()) return std::optional(it->second);
    }
    auto found =
        Read<std::optional<std::string>>([&](Conn& c) -> Result<std::optional<std::string>> {
          Stmt& s =
              c.Prepare("SELECT line_number FROM contacts WHERE account_id = ? AND number = ?");
          s.Bind(account_id).Bind(contact);
          if (!s.Step()) return std::optional<std::string>();
          return s.OptText(0);
        });
    if (found.ok() && found.value()) RememberRoute(std::move(key), *found.value());
    return found;
  }

  void RememberRoute(std::string key, const std::string& line) {
    std::lock_guard lock(routes_mu_);
    if (routes_.size() >= 1'000'000) routes_.clear();
    routes_.emplace(std::move(key), line);
  }

  // Writes the message row; returns its id.
  int64_t InsertMessage(WriterStatements& st, const Message& m) {
    const std::optional<int64_t> id =
        postgres_ ? std::optional(NextId(st.message_ids, message_ids_)) : std::nullopt;
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
    s.Step();
    const int64_t assigned = s.Int(0);
    s.Reset();
    return assigned;
  }

  // An id from the table's sequence, taken hundreds at a time (PostgreSQL): an insert that need
  // not wait to learn its id is pipelined with the rest of the batch. A batch rolled back leaves
  // gaps, as sequences do.
  static int64_t NextId(Stmt& take, std::deque<int64_t>& pool) {
    if (pool.empty()) {
      take.Reset();
      while (take.Step()) pool.push_back(take.Int(0));
      take.Reset();
    }
    const int64_t id = pool.front();
    pool.pop_front();
    return id;
  }

  Result<Message> InsertGroupMessage(WriterStatements& st, Message m,
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

  static Group ReadGroup(Db* db, const std::string& id) {
    Stmt s(db,
           "SELECT id, account_id, line_number, members, display_name, created_at, updated_at "
           "FROM groups WHERE id = ?");
    s.Bind(id);
    Group g;
    if (!s.Step()) return g;
    g.id = s.Text(0);
    g.account_id = s.Int(1);
    g.line = s.Text(2);
    const std::string members = s.Text(3);
    for (size_t start = 0; start < members.size();) {
      const size_t comma = members.find(',', start);
      const size_t end = comma == std::string::npos ? members.size() : comma;
      g.participants.push_back(members.substr(start, end - start));
      start = end + 1;
    }
    g.display_name = s.Text(4);
    g.created_at = FromUnixMillis(s.Int(5));
    g.updated_at = FromUnixMillis(s.Int(6));
    return g;
  }

  Result<Group> FindOrCreateGroup(int64_t account_id, const std::string& line,
                                  std::vector<std::string> participants,
                                  const std::string& new_id) override {
    std::sort(participants.begin(), participants.end());
    participants.erase(std::unique(participants.begin(), participants.end()), participants.end());
    const std::string members = *ParticipantsText(participants);
    return WriteSync<Group>([&](WriterStatements&, std::vector<Delivery>&) -> Result<Group> {
      Stmt find(writer_db_,
                "SELECT id FROM groups WHERE account_id = ? AND line_number = ? AND members = ?");
      find.Bind(account_id).Bind(line).Bind(members);
      if (find.Step()) return ReadGroup(writer_db_, find.Text(0));
      const int64_t now = ToUnixMillis(clock_.Now());
      Stmt ins(writer_db_,
               "INSERT INTO groups(id, account_id, line_number, members, created_at, updated_at) "
               "VALUES (?1, ?2, ?3, ?4, ?5, ?5)");
      ins.Bind(new_id).Bind(account_id).Bind(line).Bind(members).Bind(now).Exec();
      return ReadGroup(writer_db_, new_id);
    });
  }

  Result<Group> FindGroup(int64_t account_id, std::string_view id) override {
    return Read<Group>([&](Conn& c) -> Result<Group> {
      Group g = ReadGroup(c.db, std::string(id));
      if (g.id.empty() || g.account_id != account_id) {
        return Error::NotFound("no group with group_id " + std::string(id));
      }
      return g;
    });
  }

  Result<Group> ModifyGroup(int64_t account_id, std::string_view id, bool add,
                            const std::string& number) override {
    return WriteSync<Group>([&](WriterStatements&, std::vector<Delivery>&) -> Result<Group> {
      Group g = ReadGroup(writer_db_, std::string(id));
      if (g.id.empty() || g.account_id != account_id) {
        return Error::NotFound("no group with group_id " + std::string(id));
      }
      auto& p = g.participants;
      const auto it = std::find(p.begin(), p.end(), number);
      const bool member = it != p.end();
      if (!add && !member) return Error::Invalid("number " + number + " is not in group " + g.id);
      if (add && !member) p.push_back(number);
      if (!add) p.erase(it);
      if (p.size() < 2) return Error::Invalid("a group keeps at least 2 participants");
      if (p.size() > 25) return Error::Invalid("a group holds at most 25 participants");
      std::sort(p.begin(), p.end());
      Stmt up(writer_db_, "UPDATE groups SET members = ?, updated_at = ? WHERE id = ?");
      up.Bind(*ParticipantsText(p)).Bind(ToUnixMillis(clock_.Now())).Bind(g.id).Exec();
      return ReadGroup(writer_db_, g.id);
    });
  }

  void ForgetRoutes(std::string_view line) override {
    {
      std::lock_guard lock(routes_mu_);
      std::erase_if(routes_, [line](const auto& kv) { return kv.second == line; });
    }
    contacts_stale_.store(true, std::memory_order_release);
  }

  // --- line administration ---
  Result<Line> SetLineSettings(std::string_view number, const LineSettings& settings) override {
    return UpdateLine(number, "settings", LineSettingsJson(settings));
  }

  Result<Line> SetLineOptions(std::string_view number, const std::string& options_json) override {
    return UpdateLine(number, "options", options_json);
  }

  // Sets one JSON column of a line (`column` is a literal of ours), recorded as a line change.
  Result<Line> UpdateLine(std::string_view number, const char* column, std::string value) {
    return WriteSync<Line>([this, number = std::string(number), column, value = std::move(value)](
                               WriterStatements&, std::vector<Delivery>&) -> Result<Line> {
      Stmt s(writer_db_, std::string("UPDATE lines SET ") + column + " = ? WHERE number = ?");
      s.Bind(value).Bind(number).Exec();
      if (s.Changes() == 0) return Error::NotFound("no line " + number);
      RecordLineChange(writer_db_, number, clock_.Now());
      Stmt load(writer_db_, std::string("SELECT ") + kLineColumns + " FROM lines WHERE number = ?");
      load.Bind(number);
      load.Step();
      return ReadLine(load);
    });
  }

  Result<int64_t> CountQueued(std::string_view line) override {
    return Read<int64_t>([&](Conn& c) -> Result<int64_t> {
      Stmt& s =
          c.Prepare("SELECT COUNT(*) FROM messages WHERE line_number = ? AND status = 'QUEUED'");
      s.Bind(line);
      s.Step();
      return s.Int(0);
    });
  }

  Result<LineRemoval> RemoveLine(std::string_view number, QueuedOnRemoval queued,
                                 std::optional<std::string> move_to) override {
    return WriteSync<LineRemoval>([this, number = std::string(number), queued,
                                   move_to = std::move(move_to)](
                                      WriterStatements& st,
                                      std::vector<Delivery>& created) -> Result<LineRemoval> {
      contact_cache_.clear();  // its contacts move or come unbound
      st.bump_contacts_epoch.Reset().Exec();
      Stmt line(writer_db_, "SELECT account_id FROM lines WHERE number = ?");
      line.Bind(number);
      if (!line.Step()) return Error::NotFound("no line " + number);
      const int64_t account_id = line.Int(0);
      if (queued == QueuedOnRemoval::kMove) {
        Stmt target(writer_db_, "SELECT account_id FROM lines WHERE number = ?");
        target.Bind(move_to.value_or(""));
        if (!move_to || *move_to == number || !target.Step() || target.Int(0) != account_id) {
          return Error::Invalid("the queued messages of " + number +
                                " can only move to another line of the same account");
        }
      }
      std::vector<int64_t> waiting;
      Stmt q(writer_db_, "SELECT id FROM messages WHERE line_number = ? AND status = 'QUEUED'");
      q.Bind(number);
      while (q.Step()) waiting.push_back(q.Int(0));
      LineRemoval out;
      if (!waiting.empty() && queued == QueuedOnRemoval::kRefuse) {
        return Error{ErrorKind::kConflict,
                     std::to_string(waiting.size()) + " messages wait in QUEUED on line " + number +
                         "; say whether to fail them or move them to another line",
                     ErrorCode::kValidation,
                     {}};
      }
      const TimePoint now = clock_.Now();
      if (queued == QueuedOnRemoval::kMove) {
        Stmt move(writer_db_,
                  "UPDATE messages SET line_number = ?1 WHERE line_number = ?2 AND status = "
                  "'QUEUED'");
        move.Bind(*move_to).Bind(number).Exec();
        out.moved = move.Changes();
        Stmt rebind(writer_db_,
                    "UPDATE contacts SET line_number = ?1, bound_at = ?3 WHERE line_number = ?2 "
                    "AND account_id = ?4");
        rebind.Bind(*move_to).Bind(number).Bind(ToUnixMillis(now)).Bind(account_id).Exec();
        out.contacts_rebound = rebind.Changes();
      } else {
        for (int64_t id : waiting) {
          TransitionRequest r;
          r.message_id = id;
          r.to = Status::kError;
          r.at = now;
          r.error = MessageError{ErrorCode::kFailedToSend,
                                 "The line " + number + " was removed before the message was sent",
                                 "line_removed", std::nullopt};
          r.source = "line-removed";
          auto applied = ApplyTransition(st, r, created);
          if (applied.ok() && applied->applied) ++out.failed;
        }

        Stmt unbind(writer_db_,
                    "UPDATE contacts SET line_number = NULL, bound_at = NULL WHERE line_number = "
                    "? AND account_id = ?");
        unbind.Bind(number).Bind(account_id).Exec();
        out.contacts_rebound = unbind.Changes();
      }
      Stmt del(writer_db_, "DELETE FROM lines WHERE number = ?");
      del.Bind(number).Exec();
      RecordLineChange(writer_db_, number, now);
      ForgetRoutes(number);
      return out;
    });
  }

  Result<std::pair<std::vector<std::string>, int64_t>> LineChangesSince(int64_t since) override {
    using Out = std::pair<std::vector<std::string>, int64_t>;
    return Read<Out>([&](Conn& c) -> Result<Out> {
      Stmt& s = c.Prepare("SELECT seq, number FROM line_changes WHERE seq > ? ORDER BY seq");
      s.Bind(since);
      Out out{{}, since};
      while (s.Step()) {
        out.second = s.Int(0);
        out.first.push_back(s.Text(1));
      }
      return out;
    });
  }

  Result<std::vector<TimePoint>> NewContactStarts(std::string_view line, TimePoint since) override {
    return Read<std::vector<TimePoint>>([&](Conn& c) -> Result<std::vector<TimePoint>> {
      Stmt& s = c.Prepare(
          "SELECT accepted_at FROM messages WHERE line_number = ? AND new_contact = 1 AND "
          "accepted_at >= ? ORDER BY accepted_at");
      s.Bind(line).Bind(ToUnixMillis(since));
      std::vector<TimePoint> out;
      while (s.Step()) out.push_back(FromUnixMillis(s.Int(0)));
      return out;
    });
  }

  // --- contacts ---
  Result<Contact> WriteContact(int64_t account_id, const std::string& number,
                               const ContactFields& fields, ContactWrite mode) override {
    return WriteSync<Contact>(
        [&](WriterStatements& st, std::vector<Delivery>& created) -> Result<Contact> {
          auto w = contacts::Write(writer_db_, account_id, number, fields, mode, clock_.Now());
          if (!w.ok()) return w.error();
          st.bump_contacts_epoch.Reset().Exec();
          AfterContactWrite(st, account_id, w.value(), created);
          return w->contact;
        });
  }

  Result<std::vector<Contact>> WriteContacts(
      int64_t account_id,
      const std::vector<std::pair<std::string, ContactFields>>& batch) override {
    return WriteSync<std::vector<Contact>>(
        [&](WriterStatements& st, std::vector<Delivery>& created) -> Result<std::vector<Contact>> {
          std::vector<Contact> out;
          st.bump_contacts_epoch.Reset().Exec();
          for (const auto& [number, fields] : batch) {
            auto w = contacts::Write(writer_db_, account_id, number, fields,
                                     ContactWrite::kCreateOrUpdate, clock_.Now());
            if (!w.ok()) return w.error();  // rolls back the whole batch: all or none
            AfterContactWrite(st, account_id, w.value(), created);
            out.push_back(w->contact);
          }
          return out;
        });
  }

  Result<Contact> FindContact(int64_t account_id, std::string_view number) override {
    return Read<Contact>([&](Conn& c) -> Result<Contact> {
      auto found = contacts::Find(c.db, account_id, number);
      if (!found) return Error::NotFound("no contact with number " + std::string(number));
      return *found;
    });
  }

  Result<std::vector<Contact>> ListContacts(const ContactQuery& q) override {
    return Read<std::vector<Contact>>(
        [&](Conn& c) -> Result<std::vector<Contact>> { return contacts::List(c.db, q); });
  }

  Result<int64_t> CountContacts(int64_t account_id) override {
    return Read<int64_t>(
        [&](Conn& c) -> Result<int64_t> { return contacts::Count(c.db, account_id); });
  }

  Result<int64_t> DeleteContacts(int64_t account_id,
                                 const std::vector<std::string>& numbers_or_ids) override {
    return WriteSync<int64_t>([&](WriterStatements& st, std::vector<Delivery>&) -> Result<int64_t> {
      contact_cache_.clear();  // keys may be contact ids
      st.bump_contacts_epoch.Reset().Exec();
      return contacts::Delete(writer_db_, account_id, numbers_or_ids, clock_.Now());
    });
  }

  Result<DeliveryPage> ListDeliveries(const DeliveryQuery& q) override {
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
        for (auto st : {DeliveryState::kPending, DeliveryState::kDelivered, DeliveryState::kFailed,
                        DeliveryState::kDisabled}) {
          if (DeliveryStateName(st) == state) r.state = st;
        }
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

  Result<Delivery> RequeueDelivery(std::optional<int64_t> account_id,
                                   int64_t delivery_id) override {
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
      Stmt load(writer_db_, std::string("SELECT ") + kDeliveryColumns +
                                " FROM webhook_deliveries WHERE id = ?");
      load.Bind(delivery_id);
      load.Step();
      return ReadDelivery(load);
    });
  }

  Result<std::pair<std::vector<Delivery>, int64_t>> RequeuedSince(int64_t since) override {
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

  Result<int64_t> PruneDeliveries(TimePoint cutoff) override {
    // In slices of the 5,000 oldest rows, so the writer is never held for long and no slice
    // scans the whole table; rows are in time order, so the oldest are the candidates. A slice
    // that frees nothing ends the pass (a head of long-retrying deliveries waits for them).
    int64_t total = 0;
    for (;;) {
      auto n = WriteSync<int64_t>(
          [this, cutoff](WriterStatements&, std::vector<Delivery>&) -> Result<int64_t> {
            const int64_t at = ToUnixMillis(cutoff);
            Stmt attempts(
                writer_db_,
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

  Result<WebhookConfig> GetWebhooks(int64_t account_id) override {
    return Read<WebhookConfig>(
        [&](Conn& c) -> Result<WebhookConfig> { return LoadWebhooks(c.db, account_id); });
  }

  Result<WebhookConfig> AddWebhooks(int64_t account_id, const std::string& type,
                                    std::vector<WebhookEntry> entries,
                                    std::optional<std::string> global_secret) override {
    return WriteSync<WebhookConfig>(
        [this, account_id, type, entries = std::move(entries), global_secret](
            WriterStatements& st, std::vector<Delivery>&) -> Result<WebhookConfig> {
          Stmt next(writer_db_,
                    "SELECT COALESCE(MAX(position), 0) + 1 FROM account_webhooks WHERE account_id "
                    "= ? AND type = ?");
          next.Bind(account_id).Bind(type);
          next.Step();
          int64_t position = next.Int(0);
          for (const auto& e : entries) InsertWebhook(writer_db_, account_id, type, e, position++);
          if (global_secret) SetGlobalSecret(writer_db_, account_id, global_secret);
          hooks_cache_.erase(account_id);
          st.bump_webhooks_epoch.Reset().Exec();
          return LoadWebhooks(writer_db_, account_id);
        });
  }

  Result<WebhookConfig> ReplaceWebhooks(int64_t account_id, WebhookConfig config) override {
    return WriteSync<WebhookConfig>(
        [this, account_id, config = std::move(config)](
            WriterStatements& st, std::vector<Delivery>&) -> Result<WebhookConfig> {
          Stmt clear(writer_db_, "DELETE FROM account_webhooks WHERE account_id = ?");
          clear.Bind(account_id).Exec();
          for (const auto& [type, entries] : config.by_type) {
            int64_t position = 1;
            for (const auto& e : entries)
              InsertWebhook(writer_db_, account_id, type, e, position++);
          }
          SetGlobalSecret(writer_db_, account_id, config.global_secret);
          hooks_cache_.erase(account_id);
          st.bump_webhooks_epoch.Reset().Exec();
          return LoadWebhooks(writer_db_, account_id);
        });
  }

  Result<WebhookConfig> DeleteWebhooks(int64_t account_id, const std::string& type,
                                       std::vector<std::string> urls) override {
    return WriteSync<WebhookConfig>(
        [this, account_id, type, urls = std::move(urls)](
            WriterStatements& st, std::vector<Delivery>&) -> Result<WebhookConfig> {
          Stmt del(writer_db_,
                   "DELETE FROM account_webhooks WHERE account_id = ? AND type = ? AND url = ?");
          for (const auto& url : urls) del.Reset().Bind(account_id).Bind(type).Bind(url).Exec();
          hooks_cache_.erase(account_id);
          st.bump_webhooks_epoch.Reset().Exec();
          return LoadWebhooks(writer_db_, account_id);
        });
  }

 private:
  template <typename T, typename Fn>
  void Enqueue(Fn apply, std::function<void(Result<T>)> done, int64_t message_id = 0,
               int64_t account_id = 0, std::string contact = {}) {
    auto result = std::make_shared<std::optional<Result<T>>>();
    WriteOp op;
    op.keys = WriteKeys{message_id, account_id, std::move(contact)};
    op.apply = [this, result, apply = std::move(apply)](bool alone) mutable {
      try {
        Result<T> r = apply(*stmts_, created_);
        // Isolated by a savepoint: its deferred statements are waited for within it, so that
        // their errors are its own.
        if (alone) writer_db_->Sync();
        const bool ok = r.ok();
        *result = std::move(r);
        return ok;
      } catch (const DbError& e) {
        if (!e.OnlyThisWrite()) throw;
        *result = Error::Invalid(std::string("the store refused the write: ") + e.what());
        return false;
      }
    };
    op.finish = [result, done = std::move(done)](bool committed) {
      if (!committed) {
        done(Error::Storage("the store could not commit; the request was not stored"));
      } else {
        done(std::move(**result));
      }
    };
    writer_->Enqueue(std::move(op));
  }

  // --- BatchHooks: what a batch does besides its writes (writer thread). ---
  void BeginBatch(const std::vector<WriteKeys>& keys, bool isolate) override {
    created_.clear();
    pending_events_.clear();
    holders_.clear();
    pending_bindings_.clear();
    isolating_ = isolate;
    {
      // A process without an observer (an admin command) has no dispatcher: what it writes is
      // marked for a running server's re-queue poll instead.
      std::lock_guard lock(mu_);
      announce_ = !observer_;
    }
    RefreshCaches();
    PrefetchStates(keys);
  }

  void BeforeWrite() override {
    created_mark_ = created_.size();
    event_mark_ = pending_events_.size();
    delivery_owner_ = node_id_;
  }

  void WriteFailed() override {
    created_.resize(created_mark_);
    pending_events_.resize(event_mark_);
    contact_cache_.clear();  // it may hold what this write or the batch rolled back
  }

  bool EndBatch() override {
    if (announce_) {
      for (const Delivery& d : created_) stmts_->announce.Reset().Bind(d.id).Exec();
    }
    return WriteBindings();
  }

  void RolledBack() override {
    contact_cache_.clear();
    hooks_cache_.clear();
  }

  void AfterBatch(bool committed) override {
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
    MaybeIndexConversations();
    created_ = {};
  }

  // This process's node in webhook_deliveries.owner (NULL for a process that is no node).
  std::optional<std::string> OwnNode() const {
    return node_id_.empty() ? std::nullopt : std::optional<std::string>(node_id_);
  }

  // The node holding the line's lease now (this node when none does), read once per batch.
  std::string LineHolder(const std::string& line) {
    if (auto it = holders_.find(line); it != holders_.end()) return it->second;
    Stmt& s = stmts_->line_holder.Reset().Bind(line);
    std::string holder = s.Step() ? s.Text(0) : node_id_;
    s.Reset();
    return holders_.emplace(line, holder).first->second;
  }

  // PostgreSQL: whether a contact_created event would be told (its payload reads the row, so the
  // contact is then bound at once).
  bool WantsContactCreated(WriterStatements& st, int64_t account_id, const std::string& line) {
    return (event_wants_ && event_wants_(account_id)) ||
           !Targets(st, 0, account_id, "", "contact_created", line).empty();
  }

  // PostgreSQL: writes the batch's bindings in key order, then says whether every contact is
  // bound to the line its message was for (another node may have bound one first: the upsert
  // then kept that node's line).
  bool WriteBindings() {
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

  // Drops what the writer's caches may hold that another connection changed since the last batch:
  // contacts (on SQLite, when data_version says another connection committed; on PostgreSQL,
  // where other nodes write all the time, at every batch) and webhooks (when their epoch moved).
  void RefreshCaches() {
    Stmt& epochs = stmts_->epochs.Reset();
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

  // Files new messages under their conversation (account, contact) in slices, every half second
  // at most, on the writer thread. An index on messages(contact) would be updated at a random
  // place by every accept, dirtying one page per message in each commit; filed in batches sorted
  // by contact, each conversation's page is written once per batch instead.
  void MaybeIndexConversations() {
    const TimePoint now = clock_.Now();
    if (postgres_ || !writer_->healthy() ||
        (now >= last_indexed_ && now - last_indexed_ < Millis(500)))
      return;
    last_indexed_ = now;
    try {
      writer_db_->Begin();
      Stmt wm(writer_db_,
              "SELECT id, (SELECT COALESCE(MAX(id), 0) FROM messages) FROM "
              "conversation_watermark");
      wm.Step();
      const int64_t from = wm.Int(0);
      const int64_t to = std::min(wm.Int(1), from + 200'000);
      wm.Reset();
      if (to > from) {
        Stmt file(
            writer_db_,
            "INSERT INTO conversations(account_id, contact, created_at, message_id) "
            "SELECT account_id, contact, created_at, id FROM messages WHERE id > ? AND id <= ? "
            "AND contact != '' ORDER BY account_id, contact, created_at ON CONFLICT DO NOTHING");
        file.Bind(from).Bind(to).Exec();
        Stmt up(writer_db_, "UPDATE conversation_watermark SET id = ?");
        up.Bind(to).Exec();
      }
      writer_db_->Exec("COMMIT");
    } catch (const DbError& e) {
      writer_db_->ExecQuietly("ROLLBACK");
      spdlog::warn("filing conversations failed (retried later): {}", e.what());
    }
  }

  void HousekeepingLoop() {
    std::unique_lock lock(mu_);
    while (!stopping_) {
      housekeeping_cv_.wait_for(lock, std::chrono::milliseconds(100));
      lock.unlock();
      try {
        engine_.housekeeping(*housekeeping_db_);
      } catch (const DbError& e) {
        spdlog::warn("store housekeeping failed (retried): {}", e.what());
      }
      lock.lock();
    }
  }

  // An admin write (account, key, line) on a short-lived connection of its own, which waits for
  // the writer thread's lock like any other process would.
  template <typename T, typename Fn>
  Result<T> AdminWrite(Fn fn) {
    return Read<T>(std::move(fn), /*write=*/true);
  }

  // Runs `fn` on a pooled read connection (or, with `write`, see AdminWrite).
  template <typename T, typename Fn>
  Result<T> Read(Fn fn, bool write = false) {
    std::unique_ptr<Conn> conn;
    if (!write) {
      std::lock_guard lock(readers_mu_);
      if (!readers_.empty()) {
        conn = std::move(readers_.back());
        readers_.pop_back();
      }
    }
    Result<T> out = Error::Internal("unreachable");
    try {
      if (!conn) conn = std::make_unique<Conn>(engine_.connect(write ? 2000 : 8192));
      out = fn(*conn);
    } catch (const DbError& e) {
      const std::string what = e.what();
      if (e.kind == DbError::Kind::kUnique) {
        out = Error{
            ErrorKind::kInvalidArgument, "already exists: " + what, ErrorCode::kValidation, {}};
      } else {
        out = Error::Storage(std::string("store read failed: ") + what);
      }
    } catch (const std::runtime_error& e) {
      out = Error::Storage(e.what());
    }
    if (conn) conn->ResetAll();
    if (!write && conn) {
      std::lock_guard lock(readers_mu_);
      readers_.push_back(std::move(conn));
    }
    return out;
  }

  SqlEngine engine_;
  Clock& clock_;
  std::unique_ptr<Db> writer_owned_;
  Db* writer_db_ = nullptr;
  bool postgres_ = false;
  std::string node_id_;         // the node that dispatches the deliveries this process writes
  std::string delivery_owner_;  // writer thread: the node that dispatches the current write's
  std::unordered_map<std::string, std::string> holders_;    // writer thread, per batch
  std::deque<int64_t> message_ids_, delivery_ids_;          // writer thread (PostgreSQL)
  std::unordered_map<int64_t, MessageState> batch_states_;  // writer thread, per batch
  struct Binding {
    int64_t account_id;
    std::string contact;
    std::string line;
    int64_t at;
    std::string contact_id;  // if the binding creates the contact
  };
  std::vector<Binding> pending_bindings_;  // writer thread: this batch's, to verify (PostgreSQL)
  bool isolating_ = false;                 // writer thread: the batch runs write by write
  int64_t contacts_epoch_ = -1;            // writer thread: store_epochs 'contacts' when last read
  std::unique_ptr<WriterStatements> stmts_;

  std::unique_ptr<Writer> writer_;
  std::vector<Delivery> created_;  // writer thread: the batch's new deliveries
  size_t created_mark_ = 0;        // writer thread: where the current write's begin
  size_t event_mark_ = 0;

  mutable std::mutex mu_;  // the observers, and the housekeeper's stop
  std::condition_variable housekeeping_cv_;
  bool stopping_ = false;
  std::function<void(std::vector<Delivery>)> observer_;
  bool announce_ = false;  // writer thread: mark new deliveries for another process
  struct StoreEvent {
    int64_t account_id;
    std::string type;
    std::string data;
    TimePoint at;
  };
  std::vector<StoreEvent> pending_events_;  // writer thread: told after the commit
  std::function<bool(int64_t)> event_wants_;
  std::function<void(int64_t, const std::string&, const std::string&, TimePoint)> event_publish_;
  TimePoint last_indexed_{};     // writer thread
  int64_t data_version_ = -1;    // writer thread: PRAGMA data_version when last read
  int64_t webhooks_epoch_ = -1;  // writer thread: store_epochs 'webhooks' when last read
  std::unique_ptr<Db> housekeeping_db_;
  // Writer thread only: account id → webhook type → enabled hooks.
  std::unordered_map<int64_t, std::map<std::string, std::vector<Hook>, std::less<>>> hooks_cache_;
  std::thread housekeeper_;

  std::mutex routes_mu_;
  std::unordered_map<std::string, std::string> routes_;  // "account/contact" → bound line
  // Writer thread only: "account/contact" → what Accept needs of the contact row.
  std::unordered_map<std::string, ContactState> contact_cache_;
  std::atomic<bool> contacts_stale_{false};

  std::mutex readers_mu_;
  std::vector<std::unique_ptr<Conn>> readers_;
};

}  // namespace

std::string_view DeliveryStateName(DeliveryState s) {
  switch (s) {
    case DeliveryState::kPending:
      return "pending";
    case DeliveryState::kDelivered:
      return "delivered";
    case DeliveryState::kFailed:
      return "failed";
    case DeliveryState::kDisabled:
      return "disabled";
  }
  return "pending";
}

std::unique_ptr<Store> MakeSqlStore(SqlEngine engine, Clock& clock) {
  return std::make_unique<SqlStore>(std::move(engine), clock);
}

}  // namespace bluegate::store
