#include "store/sql/statements.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "core/json.h"

namespace bluegate::store {

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

Line ReadLine(const Stmt& s) {
  Line line{s.Text(0), s.Int(1), s.Text(2), s.Text(3), ParseLineSettings(s.Text(4))};
  line.held = s.Int(5) != 0;
  return line;
}

void LoadSharedWith(Db* db, Line& line) {
  Stmt s(db, "SELECT account_id FROM line_accounts WHERE line_number = ? ORDER BY account_id");
  s.Bind(line.number);
  line.shared_with.clear();
  while (s.Step()) line.shared_with.push_back(s.Int(0));
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
  if (!s.IsNull(28)) m.original_media_url = s.Text(28);
  return m;
}

void ArrayLiteral::AddText(std::optional<std::string_view> v) {
  Separate();
  if (!v) {
    items_ += "NULL";
    return;
  }
  items_ += '"';
  for (char c : *v) {
    if (c == '"' || c == '\\') items_ += '\\';
    items_ += c;
  }
  items_ += '"';
}

void MessageRows::Add(int64_t id, const Message& m) {
  auto& c = columns_;
  const std::optional<MessageError>& e = m.error;
  c[0].AddInt(id);
  c[1].AddText(m.handle);
  c[2].AddInt(m.account_id);
  c[3].AddText(m.line_number);
  c[4].AddText(m.contact);
  c[5].AddInt(m.is_outbound ? 1 : 0);
  c[6].AddText(m.content);
  c[7].AddText(m.media_url);
  c[8].AddText(m.send_style);
  c[9].AddText(m.status_callback);
  c[10].AddText(StatusName(m.status));
  c[11].AddText(e ? std::optional<std::string>(ErrorCodeToString(e->code)) : std::nullopt);
  c[12].AddText(e ? std::optional<std::string_view>(e->message) : std::nullopt);
  c[13].AddText(e ? e->reason : std::nullopt);
  c[14].AddText(e ? e->detail : std::nullopt);
  c[15].AddText(ServiceName(m.service));
  c[16].AddInt(m.was_downgraded ? std::optional<int64_t>(*m.was_downgraded) : std::nullopt);
  c[17].AddText(m.message_type);
  c[18].AddText(m.group_id);
  c[19].AddInt(m.opted_out ? 1 : 0);
  c[20].AddInt(ToUnixMillis(m.date_created));
  c[21].AddInt(ToUnixMillis(m.date_updated));
  c[22].AddInt(m.new_contact ? 1 : 0);
  c[23].AddText(ParticipantsText(m.participants));
  ++count_;
}

// A new re-queue mark, larger than every earlier one (webhook_deliveries.requeued_at).
std::string NextRequeueMark(Db* db) {
  return db->engine() == Engine::kPostgres
             ? "nextval('requeue_marks')"
             : "(SELECT COALESCE(MAX(requeued_at), 0) + 1 FROM webhook_deliveries)";
}

WriterStatements::WriterStatements(Db* db)
    : insert_message(
          db,
          // id: NULL (SQLite picks it: LastInsertId) or one the writer took from the sequence
          // (PostgreSQL). No RETURNING: SQLite runs it through a temporary table.
          "INSERT INTO messages(id, handle, account_id, line_number, contact, is_outbound, "
          "content, media_url, send_style, status_callback, status, error_code, "
          "error_message, error_reason, error_detail, service, was_downgraded, "
          "message_type, group_id, opted_out, created_at, updated_at, new_contact, "
          "participants) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"),
      // PostgreSQL: a batch's new messages in one statement (MessageRows, WriteNewMessages).
      insert_messages(
          db, db->engine() == Engine::kPostgres
                  ? "INSERT INTO messages(id, handle, account_id, line_number, contact, "
                    "is_outbound, content, media_url, send_style, status_callback, status, "
                    "error_code, error_message, error_reason, error_detail, service, "
                    "was_downgraded, message_type, group_id, opted_out, created_at, updated_at, "
                    "new_contact, participants) SELECT * FROM unnest(CAST(? AS BIGINT[]), "
                    "CAST(? AS TEXT[]), CAST(? AS BIGINT[]), CAST(? AS TEXT[]), CAST(? AS "
                    "TEXT[]), CAST(? AS BIGINT[]), CAST(? AS TEXT[]), CAST(? AS TEXT[]), CAST(? "
                    "AS TEXT[]), CAST(? AS TEXT[]), CAST(? AS TEXT[]), CAST(? AS TEXT[]), CAST(? "
                    "AS TEXT[]), CAST(? AS TEXT[]), CAST(? AS TEXT[]), CAST(? AS TEXT[]), CAST(? "
                    "AS BIGINT[]), CAST(? AS TEXT[]), CAST(? AS TEXT[]), CAST(? AS BIGINT[]), "
                    "CAST(? AS BIGINT[]), CAST(? AS BIGINT[]), CAST(? AS BIGINT[]), CAST(? AS "
                    "TEXT[]))"
                  : "SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
                    "?"),
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
                    "line_number, created_at FROM messages WHERE id = ?"),
      check_bindings(db,
                     db->engine() == Engine::kPostgres
                         // (LATERAL with LIMIT: one primary-key probe per contact, whatever
                         // the plan cached for the statement guessed of the arrays' size.)
                         ? std::string(kPlanEachTime) +
                               "SELECT COUNT(*) FROM unnest(CAST(? AS BIGINT[]), CAST(? AS "
                               "TEXT[]), CAST(? AS TEXT[])) AS k(account_id, number, line) CROSS "
                               "JOIN LATERAL (SELECT line_number FROM contacts c WHERE "
                               "c.account_id = k.account_id AND c.number = k.number LIMIT 1) c "
                               "WHERE c.line_number IS DISTINCT FROM k.line"
                         : "SELECT ?, ?, ?"),
      contact_states(db, db->engine() == Engine::kPostgres
                             ? std::string(kPlanEachTime) +
                                   "SELECT k.account_id, k.number, c.opted_out, c.line_number, "
                                   "c.last_message_at, c.verified, c.deleted FROM unnest(CAST(? AS "
                                   "BIGINT[]), CAST(? AS TEXT[])) AS k(account_id, number) CROSS "
                                   "JOIN LATERAL (SELECT opted_out, line_number, last_message_at, "
                                   "verified_at IS NOT NULL AS verified, deleted_at IS NOT NULL AS "
                                   "deleted FROM contacts c WHERE c.account_id = k.account_id AND "
                                   "c.number = k.number LIMIT 1) c"
                             : "SELECT ?, ?"),
      message_states(db, db->engine() == Engine::kPostgres
                             ? "SELECT id, status, service, status_callback, account_id, "
                               "is_outbound, line_number, created_at FROM messages WHERE id = "
                               "ANY(CAST(? AS "
                               "BIGINT[])) FOR UPDATE"
                             : "SELECT ?"),
      account_hooks(db,
                    "SELECT w.url, COALESCE(w.secret, a.webhook_secret, ''), w.sendblue_numbers "
                    "FROM account_webhooks w JOIN accounts a ON a.id = w.account_id "
                    "WHERE w.account_id = ? AND w.type = ? AND w.disabled_at IS NULL "
                    "ORDER BY w.position"),
      disable_hook(db,
                   "UPDATE account_webhooks SET disabled_at = ?1 WHERE url = ?2 AND disabled_at IS "
                   "NULL AND account_id = (SELECT account_id FROM messages WHERE id = ?3)"),
      update_status(db,
                    "UPDATE messages SET status = ?1, updated_at = ?2, error_code = ?3, "
                    "error_message = ?4, error_reason = ?5, error_detail = ?6, "
                    "service = COALESCE(?7, service), was_downgraded = COALESCE(?8, "
                    "was_downgraded), accepted_at = CASE WHEN ?1 = 'ACCEPTED' THEN ?2 ELSE "
                    "accepted_at END WHERE id = ?9"),
      // PostgreSQL: a batch's status changes in one statement, the last change of each message
      // (see SqlStore::WriteStatusChanges).
      update_statuses(
          db, db->engine() == Engine::kPostgres
                  ? std::string(kPlanEachTime) +
                        "UPDATE messages m SET status = u.status, updated_at = u.at, error_code = "
                        "u.error_code, error_message = u.error_message, error_reason = "
                        "u.error_reason, error_detail = u.error_detail, service = "
                        "COALESCE(u.service, m.service), was_downgraded = "
                        "COALESCE(u.was_downgraded, m.was_downgraded), accepted_at = "
                        "COALESCE(u.accepted_at, m.accepted_at) FROM unnest(CAST(? AS BIGINT[]), "
                        "CAST(? AS TEXT[]), CAST(? AS BIGINT[]), CAST(? AS TEXT[]), CAST(? AS "
                        "TEXT[]), CAST(? AS TEXT[]), CAST(? AS TEXT[]), CAST(? AS TEXT[]), "
                        "CAST(? AS BIGINT[]), CAST(? AS BIGINT[])) AS u(id, status, at, "
                        "error_code, error_message, error_reason, error_detail, service, "
                        "was_downgraded, accepted_at) WHERE m.id = u.id"
                  : "SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?"),
      insert_event(db,
                   "INSERT INTO message_events(message_id, status, at, applied, source) "
                   "VALUES (?,?,?,?,?)"),
      mark_read(db, "UPDATE messages SET read_at = COALESCE(read_at, ?) WHERE id = ?"),
      replace_media(db,
                    "UPDATE messages SET original_media_url = COALESCE(original_media_url, "
                    "media_url), media_url = ? WHERE id = ?"),
      load_message(db, std::string("SELECT ") + kMessageColumns + kMessageFrom + "WHERE m.id = ?"),
      any_disabled(db, "SELECT 1 FROM webhook_deliveries WHERE state = 'disabled' LIMIT 1"),
      endpoint_gone(db,
                    "SELECT 1 FROM webhook_deliveries WHERE message_id = ? AND url = ? AND "
                    "state = 'disabled' LIMIT 1"),
      insert_delivery(db,
                      "INSERT INTO webhook_deliveries(id, message_id, kind, url, secret, status, "
                      "event_at, state, attempts, next_attempt_at, updated_at, owner) "
                      "VALUES (?,?,?,?,?,?,?,'pending',0,?,?,?)"),
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
      bump_contacts_epoch(db, "UPDATE store_epochs SET value = value + 1 WHERE name = 'contacts'"),
      message_ids(db, db->engine() == Engine::kPostgres
                          ? "SELECT nextval(pg_get_serial_sequence('messages', 'id')) FROM "
                            "generate_series(1, 512)"
                          : "SELECT 0"),
      delivery_ids(db, db->engine() == Engine::kPostgres
                           ? "SELECT nextval(pg_get_serial_sequence('webhook_deliveries', "
                             "'id')) FROM generate_series(1, 1024)"
                           : "SELECT 0"),
      // (Scale-out only: SQLite has no line_leases, and never runs it.)
      line_holders(db, db->engine() == Engine::kPostgres
                           ? "SELECT line_number, node_id FROM line_leases WHERE line_number = "
                             "ANY(CAST(? AS TEXT[])) AND expires_at > (EXTRACT(EPOCH FROM "
                             "clock_timestamp()) * 1000)::BIGINT"
                           : "SELECT ?"),
      bump_webhooks_epoch(db, "UPDATE store_epochs SET value = value + 1 WHERE name = 'webhooks'"),
      announce(db, std::string("UPDATE webhook_deliveries SET requeued_at = ") +
                       NextRequeueMark(db) + " WHERE id = ?") {}

}  // namespace bluegate::store
