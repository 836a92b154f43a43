// What the SQL store's files share below the Store: column lists, row readers, the writer
// connection's prepared statements and a pooled read connection. Internal to store/sql/.
#pragma once

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/clock.h"
#include "core/message.h"
#include "store/sql/db.h"
#include "store/store.h"

namespace bluegate::store {

// How stale contacts.last_message_at may be (it decides the 30-day new-contact window).
inline constexpr Millis kLastMessageGranularity{std::chrono::hours(1)};

inline constexpr const char* kMessageColumns =
    "m.id, m.handle, m.account_id, a.email, a.plan, m.is_outbound, m.content, m.media_url, "
    "m.send_style, m.status_callback, m.status, m.error_code, m.error_message, m.error_reason, "
    "m.error_detail, m.line_number, m.contact, m.service, m.was_downgraded, m.message_type, "
    "m.group_id, m.opted_out, m.created_at, m.updated_at, m.read_at, m.new_contact, "
    "m.participants, g.display_name, m.original_media_url";
inline constexpr const char* kMessageFrom =
    " FROM messages m JOIN accounts a ON a.id = m.account_id LEFT JOIN groups g ON g.id = "
    "m.group_id AND m.group_id != '' ";

// lines.settings: a JSON object with only the fields `bluegate lines set` gave.
std::string LineSettingsJson(const LineSettings& ls);

LineSettings ParseLineSettings(const std::string& json);

inline constexpr const char* kLineColumns =
    "number, account_id, carrier, options, settings, CASE WHEN EXISTS(SELECT 1 FROM accounts "
    "WHERE accounts.id = lines.account_id AND accounts.disabled_at IS NOT NULL) THEN 1 ELSE 0 END";

Line ReadLine(const Stmt& s);

// Fills `line.shared_with` (line_accounts).
void LoadSharedWith(Db* db, Line& line);

void RecordLineChange(Db* db, std::string_view number, TimePoint at);

// messages.participants: NULL for a 1:1 message.
std::optional<std::string> ParticipantsText(const std::vector<std::string>& participants);

Message ReadMessage(const Stmt& s);

// A PostgreSQL array literal ("{a,b,c}"), bound as text and cast to an array type.
class ArrayLiteral {
 public:
  // An id or an E.164 number, which need no quoting.
  void Add(std::string_view v) {
    Separate();
    items_ += v;
  }
  // Any text, quoted ("..." with backslash and double quote escaped), or NULL.
  void AddText(std::optional<std::string_view> v);
  void AddInt(std::optional<int64_t> v) {
    if (v) return Add(std::to_string(*v));
    Separate();
    items_ += "NULL";
  }
  bool empty() const { return items_.empty(); }
  std::string text() const { return "{" + items_ + "}"; }

 private:
  void Separate() {
    if (!items_.empty()) items_ += ',';
  }
  std::string items_;
};

// PostgreSQL: a batch's new message rows, a column each, written by one INSERT ... SELECT FROM
// unnest (WriterStatements::insert_messages) instead of one statement per message.
class MessageRows {
 public:
  void Add(int64_t id, const Message& m);
  bool empty() const { return count_ == 0; }
  size_t size() const { return count_; }
  // In insert_messages' order.
  const std::array<ArrayLiteral, 24>& columns() const { return columns_; }

 private:
  std::array<ArrayLiteral, 24> columns_;
  size_t count_ = 0;
};

// A new re-queue mark, larger than every earlier one (webhook_deliveries.requeued_at).
std::string NextRequeueMark(Db* db);

// Statements of the writer connection, prepared once.
struct WriterStatements {
  explicit WriterStatements(Db* db);

  Stmt insert_message, insert_messages, contact_opted_out, bind_contact, inbound_contact,
      message_state, check_bindings, contact_states, message_states, account_hooks, disable_hook,
      update_status, update_statuses, insert_event, mark_read, replace_media, load_message,
      any_disabled, endpoint_gone, insert_delivery, event_payload, update_delivery, insert_attempt,
      epochs, bump_contacts_epoch, message_ids, delivery_ids, line_holders, bump_webhooks_epoch,
      announce;
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

}  // namespace bluegate::store
