#include "store/sqlite/sqlite_db.h"

#include "store/sql/migrate.h"
#include "store/sqlite/backup_lock.h"

#include <sqlite3.h>

#include <algorithm>
#include <iterator>
#include <optional>

namespace bluegate::store {
namespace {

// SQLite's history before the schema was written once (store/sql/schema.h), frozen: it only brings
// a database made by an older bluegate up to CurrentSchema(). Never edit or append: a change is a
// SharedMigrations() entry.
constexpr const char* kLegacyMigrations[] = {
    R"sql(
CREATE TABLE accounts(
  id INTEGER PRIMARY KEY,
  email TEXT NOT NULL UNIQUE,
  plan TEXT NOT NULL,
  created_at INTEGER NOT NULL);
CREATE TABLE api_keys(
  key_id TEXT PRIMARY KEY,
  account_id INTEGER NOT NULL REFERENCES accounts(id),
  salt TEXT NOT NULL,
  secret_hash TEXT NOT NULL,
  created_at INTEGER NOT NULL);
CREATE TABLE lines(
  number TEXT PRIMARY KEY,
  account_id INTEGER NOT NULL REFERENCES accounts(id),
  carrier TEXT NOT NULL,
  options TEXT NOT NULL DEFAULT '{}',
  created_at INTEGER NOT NULL);
CREATE TABLE messages(
  id INTEGER PRIMARY KEY,
  handle TEXT NOT NULL UNIQUE,
  account_id INTEGER NOT NULL,
  line_number TEXT NOT NULL,
  contact TEXT NOT NULL,
  is_outbound INTEGER NOT NULL,
  content TEXT NOT NULL,
  media_url TEXT NOT NULL,
  send_style TEXT NOT NULL,
  status_callback TEXT NOT NULL,
  status TEXT NOT NULL,
  error_code TEXT,
  error_message TEXT,
  error_reason TEXT,
  error_detail TEXT,
  service TEXT NOT NULL,
  was_downgraded INTEGER,
  message_type TEXT NOT NULL,
  group_id TEXT NOT NULL,
  opted_out INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  read_at INTEGER);
CREATE INDEX messages_unfinished ON messages(id)
  WHERE status IN ('QUEUED', 'ACCEPTED') OR (status = 'SENT' AND service = 'iMessage');
CREATE INDEX messages_account_created ON messages(account_id, created_at);
CREATE TABLE message_events(
  id INTEGER PRIMARY KEY,
  message_id INTEGER NOT NULL,
  status TEXT NOT NULL,
  at INTEGER NOT NULL,
  applied INTEGER NOT NULL,
  source TEXT NOT NULL);
CREATE INDEX message_events_message ON message_events(message_id);
CREATE TABLE contacts(
  account_id INTEGER NOT NULL,
  number TEXT NOT NULL,
  opted_out INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY(account_id, number)) WITHOUT ROWID;
CREATE TABLE webhook_deliveries(
  id INTEGER PRIMARY KEY,
  message_id INTEGER NOT NULL,
  kind TEXT NOT NULL,
  url TEXT NOT NULL,
  secret TEXT NOT NULL,
  status TEXT NOT NULL,
  event_at INTEGER NOT NULL,
  state TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  last_http_status INTEGER,
  last_latency_ms INTEGER,
  last_error TEXT,
  updated_at INTEGER NOT NULL);
CREATE INDEX webhook_deliveries_pending ON webhook_deliveries(id) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_message ON webhook_deliveries(message_id);
CREATE TABLE webhook_attempts(
  id INTEGER PRIMARY KEY,
  delivery_id INTEGER NOT NULL,
  at INTEGER NOT NULL,
  http_status INTEGER,
  latency_ms INTEGER NOT NULL,
  error TEXT);
)sql",
    R"sql(
ALTER TABLE accounts ADD COLUMN webhook_secret TEXT;
CREATE TABLE account_webhooks(
  account_id INTEGER NOT NULL REFERENCES accounts(id),
  type TEXT NOT NULL,
  url TEXT NOT NULL,
  secret TEXT,
  sendblue_numbers TEXT,
  plain INTEGER NOT NULL,
  position INTEGER NOT NULL,
  disabled_at INTEGER,
  PRIMARY KEY(account_id, type, url)) WITHOUT ROWID;
)sql",
    R"sql(
ALTER TABLE webhook_deliveries ADD COLUMN requeued_at INTEGER;
CREATE INDEX webhook_deliveries_requeued ON webhook_deliveries(requeued_at)
  WHERE requeued_at IS NOT NULL;
CREATE INDEX webhook_attempts_delivery ON webhook_attempts(delivery_id);
)sql",
    R"sql(
ALTER TABLE webhook_deliveries ADD COLUMN payload TEXT;
ALTER TABLE webhook_deliveries ADD COLUMN account_id INTEGER;
)sql",
    R"sql(
ALTER TABLE contacts ADD COLUMN line_number TEXT;
ALTER TABLE contacts ADD COLUMN bound_at INTEGER;
CREATE INDEX contacts_bound ON contacts(account_id, bound_at) WHERE bound_at IS NOT NULL;
)sql",
    R"sql(
ALTER TABLE messages ADD COLUMN new_contact INTEGER NOT NULL DEFAULT 0;
ALTER TABLE contacts ADD COLUMN last_message_at INTEGER;
)sql",
    R"sql(
ALTER TABLE lines ADD COLUMN settings TEXT NOT NULL DEFAULT '{}';
CREATE TABLE line_changes(
  seq INTEGER PRIMARY KEY,
  number TEXT NOT NULL,
  at INTEGER NOT NULL);
ALTER TABLE messages ADD COLUMN accepted_at INTEGER;
CREATE INDEX messages_new_contact_starts ON messages(line_number, accepted_at)
  WHERE new_contact = 1 AND accepted_at IS NOT NULL;
CREATE INDEX messages_line_queued ON messages(line_number) WHERE status = 'QUEUED';
ALTER TABLE contacts ADD COLUMN contact_id TEXT;
ALTER TABLE contacts ADD COLUMN first_name TEXT;
ALTER TABLE contacts ADD COLUMN last_name TEXT;
ALTER TABLE contacts ADD COLUMN company_name TEXT;
ALTER TABLE contacts ADD COLUMN assigned_to_email TEXT;
ALTER TABLE contacts ADD COLUMN tags TEXT;
ALTER TABLE contacts ADD COLUMN custom_variables TEXT;
ALTER TABLE contacts ADD COLUMN verified_at INTEGER;
ALTER TABLE contacts ADD COLUMN deleted_at INTEGER;
UPDATE contacts SET contact_id = lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' ||
  substr(hex(randomblob(2)), 2) || '-' || substr('89ab', 1 + abs(random() % 4), 1) ||
  substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6)));
CREATE INDEX contacts_created ON contacts(account_id, created_at);
CREATE INDEX contacts_by_id ON contacts(contact_id);
DROP INDEX contacts_bound;
)sql",
    R"sql(
CREATE TABLE groups(
  id TEXT PRIMARY KEY,
  account_id INTEGER NOT NULL,
  line_number TEXT NOT NULL,
  members TEXT NOT NULL,
  display_name TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL);
CREATE INDEX groups_by_members ON groups(account_id, line_number, members);
ALTER TABLE messages ADD COLUMN participants TEXT;
)sql",
    R"sql(
CREATE TABLE conversations(
  account_id INTEGER NOT NULL,
  contact TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  message_id INTEGER NOT NULL,
  PRIMARY KEY(account_id, contact, created_at, message_id)) WITHOUT ROWID;
CREATE TABLE conversation_watermark(id INTEGER NOT NULL);
INSERT INTO conversation_watermark VALUES (0);
CREATE INDEX messages_group ON messages(group_id, created_at) WHERE group_id != '';
)sql",
    R"sql(
CREATE TABLE store_epochs(name TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT INTO store_epochs VALUES ('webhooks', 0), ('contacts', 0);
ALTER TABLE webhook_deliveries ADD COLUMN owner TEXT;
)sql",
    R"sql(
-- Webhook secrets are kept once, in the webhook configuration; a delivery's is looked up when
-- it is read (store/sql/rows.cc), so no copy outlives a replaced webhook.
UPDATE webhook_deliveries SET secret = '' WHERE secret <> '';
)sql",
};

DbError Failure(sqlite3* db, const std::string& what) {
  const int primary = sqlite3_extended_errcode(db) & 0xff;
  const int extended = sqlite3_extended_errcode(db);
  DbError::Kind kind = DbError::Kind::kOther;
  if (extended == SQLITE_CONSTRAINT_UNIQUE || extended == SQLITE_CONSTRAINT_PRIMARYKEY) {
    kind = DbError::Kind::kUnique;
  } else if (primary == SQLITE_FULL) {
    kind = DbError::Kind::kFull;
  } else if (primary == SQLITE_CONSTRAINT || primary == SQLITE_MISMATCH ||
             primary == SQLITE_TOOBIG || primary == SQLITE_RANGE) {
    kind = DbError::Kind::kConstraint;
  }
  return DbError(what, kind);
}

class SqliteStmt final : public StmtImpl {
 public:
  SqliteStmt(sqlite3* db, const std::string& sql) : db_(db) {
    if (sqlite3_prepare_v3(db, sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &s_, nullptr) !=
        SQLITE_OK) {
      throw Failure(db, std::string("prepare failed: ") + sqlite3_errmsg(db) + " in: " + sql);
    }
  }
  ~SqliteStmt() override { sqlite3_finalize(s_); }

  void Reset() override {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
    idx_ = 0;
  }
  void BindInt(int64_t v) override { sqlite3_bind_int64(s_, ++idx_, v); }
  void BindText(std::string_view v) override {
    sqlite3_bind_text(s_, ++idx_, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  }
  void BindNull() override { sqlite3_bind_null(s_, ++idx_); }
  bool Step() override {
    const int rc = sqlite3_step(s_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    throw Failure(db_, sqlite3_errmsg(db_));
  }
  int64_t Int(int col) const override { return sqlite3_column_int64(s_, col); }
  bool IsNull(int col) const override { return sqlite3_column_type(s_, col) == SQLITE_NULL; }
  std::string Text(int col) const override {
    const auto* p = sqlite3_column_text(s_, col);
    return p ? std::string(reinterpret_cast<const char*>(p), sqlite3_column_bytes(s_, col))
             : std::string();
  }
  int64_t Changes() const override { return sqlite3_changes(db_); }
  int64_t LastInsertId() const override { return sqlite3_last_insert_rowid(db_); }

 private:
  sqlite3* db_;
  sqlite3_stmt* s_ = nullptr;
  int idx_ = 0;
};

class SqliteDb final : public Db {
 public:
  SqliteDb(sqlite3* db, Millis busy_timeout) : db_(db), busy_timeout_(busy_timeout) {}
  ~SqliteDb() override { sqlite3_close_v2(db_); }
  Engine engine() const override { return Engine::kSqlite; }
  std::unique_ptr<StmtImpl> Prepare(const std::string& sql) override {
    return std::make_unique<SqliteStmt>(db_, sql);
  }
  void Exec(const std::string& sql) override {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      std::string msg = err ? err : "unknown error";
      sqlite3_free(err);
      throw Failure(db_, msg);
    }
  }
  void Begin() override { Exec("BEGIN IMMEDIATE"); }
  sqlite3* handle() { return db_; }
  Millis busy_timeout() const { return busy_timeout_; }

 private:
  sqlite3* db_;
  Millis busy_timeout_;
};

}  // namespace

std::unique_ptr<Db> OpenSqliteDb(const SqliteOpen& open) {
  sqlite3* db = nullptr;
  const int flags =
      (open.readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) |
      SQLITE_OPEN_NOMUTEX;
  const char* vfs = open.vfs.empty() ? nullptr : open.vfs.c_str();
  if (sqlite3_open_v2(open.path.c_str(), &db, flags, vfs) != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    throw std::runtime_error("cannot open database " + open.path + ": " + msg);
  }
  sqlite3_busy_timeout(db, static_cast<int>(open.busy_timeout.count()));
  auto out = std::make_unique<SqliteDb>(db, open.busy_timeout);
  if (!open.readonly) {
    out->Exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;");
  }
  out->Exec("PRAGMA cache_size=-" + std::to_string(open.cache_kib));
  return out;
}

void MigrateSqlite(Db& db) {
  db.Exec("CREATE TABLE IF NOT EXISTS schema_version(version INTEGER NOT NULL)");
  db.Begin();
  try {
    ApplyMigrations(db, kLegacyMigrations);
    db.Exec("COMMIT");
  } catch (...) {
    db.ExecQuietly("ROLLBACK");
    throw;
  }
}

std::span<const char* const> SqliteLegacyMigrations() { return kLegacyMigrations; }

CheckpointResult CheckpointSqlite(Db& db, uint64_t restart_past_bytes,
                                  const std::string& backup_of) {
  auto& sqlite = static_cast<SqliteDb&>(db);
  sqlite3* handle = sqlite.handle();
  int wal_frames = 0, done = 0;
  // PASSIVE never blocks the writer or readers; what it cannot copy now waits for the next round.
  sqlite3_wal_checkpoint_v2(handle, nullptr, SQLITE_CHECKPOINT_PASSIVE, &wal_frames, &done);
  Stmt page(&db, "PRAGMA page_size");
  page.Step();
  const uint64_t frame_bytes = static_cast<uint64_t>(page.Int(0)) + 24;  // a frame's header
  CheckpointResult out;
  out.wal_bytes = static_cast<uint64_t>(std::max(wal_frames, 0)) * frame_bytes;
  if (restart_past_bytes == 0 || out.wal_bytes <= restart_past_bytes) return out;
  // Under constant writes a passive checkpoint never catches up with the end of the WAL, and
  // the WAL only starts over once one has: it grows without bound. Past the limit, RESTART
  // holds the writer back while it copies what the passive round left (little), so that the
  // next write starts the WAL over (and trims the file to journal_size_limit). It waits for
  // readers briefly; when one holds on, the next round tries again. (TRUNCATE would also cut the
  // file and sync it while holding the writer: twice the stall, measured.) A backup's snapshot
  // would make every round wait so, and it says so with its lock: then the WAL grows instead.
  const std::optional<BackupLock> no_backup =
      backup_of.empty() ? std::nullopt : BackupLock::TryExclusive(backup_of);
  if (!backup_of.empty() && !no_backup) {
    out.backup_running = true;
    return out;
  }
  sqlite3_busy_timeout(handle, 100);
  const int rc =
      sqlite3_wal_checkpoint_v2(handle, nullptr, SQLITE_CHECKPOINT_RESTART, &wal_frames, &done);
  sqlite3_busy_timeout(handle, static_cast<int>(sqlite.busy_timeout().count()));
  out.restarted = rc == SQLITE_OK;
  if (out.restarted) out.wal_bytes = 0;
  return out;
}

int64_t SqliteDataVersion(Db& db) {
  Stmt s(&db, "PRAGMA data_version");
  s.Step();
  return s.Int(0);
}

}  // namespace bluegate::store
