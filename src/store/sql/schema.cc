#include "store/sql/schema.h"

#include <stdexcept>

namespace bluegate::store {
namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE accounts(
  id {id},
  email TEXT NOT NULL UNIQUE,
  plan TEXT NOT NULL,
  created_at {int} NOT NULL,
  webhook_secret TEXT);
CREATE TABLE api_keys(
  key_id TEXT PRIMARY KEY,
  account_id {int} NOT NULL REFERENCES accounts(id),
  salt TEXT NOT NULL,
  secret_hash TEXT NOT NULL,
  created_at {int} NOT NULL);
CREATE TABLE lines(
  number TEXT PRIMARY KEY,
  account_id {int} NOT NULL REFERENCES accounts(id),
  carrier TEXT NOT NULL,
  options TEXT NOT NULL DEFAULT '{}',
  created_at {int} NOT NULL,
  settings TEXT NOT NULL DEFAULT '{}');
CREATE TABLE line_changes(
  seq {id},
  number TEXT NOT NULL,
  at {int} NOT NULL);
CREATE TABLE messages(
  id {id},
  handle TEXT NOT NULL UNIQUE,
  account_id {int} NOT NULL,
  line_number TEXT NOT NULL,
  contact TEXT NOT NULL,
  is_outbound {int} NOT NULL,
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
  was_downgraded {int},
  message_type TEXT NOT NULL,
  group_id TEXT NOT NULL,
  opted_out {int} NOT NULL DEFAULT 0,
  created_at {int} NOT NULL,
  updated_at {int} NOT NULL,
  read_at {int},
  new_contact {int} NOT NULL DEFAULT 0,
  accepted_at {int},
  participants TEXT);
CREATE INDEX messages_unfinished ON messages(id)
  WHERE status IN ('QUEUED', 'ACCEPTED') OR (status = 'SENT' AND service = 'iMessage');
CREATE INDEX messages_account_created ON messages(account_id, created_at);
CREATE INDEX messages_new_contact_starts ON messages(line_number, accepted_at)
  WHERE new_contact = 1 AND accepted_at IS NOT NULL;
CREATE INDEX messages_line_queued ON messages(line_number) WHERE status = 'QUEUED';
CREATE INDEX messages_group ON messages(group_id, created_at) WHERE group_id != '';
CREATE TABLE message_events(
  id {id},
  message_id {int} NOT NULL,
  status TEXT NOT NULL,
  at {int} NOT NULL,
  applied {int} NOT NULL,
  source TEXT NOT NULL);
CREATE INDEX message_events_message ON message_events(message_id);
CREATE TABLE contacts(
  account_id {int} NOT NULL,
  number TEXT NOT NULL,
  opted_out {int} NOT NULL DEFAULT 0,
  created_at {int} NOT NULL,
  updated_at {int} NOT NULL,
  line_number TEXT,
  bound_at {int},
  last_message_at {int},
  contact_id TEXT,
  first_name TEXT,
  last_name TEXT,
  company_name TEXT,
  assigned_to_email TEXT,
  tags TEXT,
  custom_variables TEXT,
  verified_at {int},
  deleted_at {int},
  PRIMARY KEY(account_id, number)){without_rowid};
CREATE INDEX contacts_created ON contacts(account_id, created_at);
CREATE INDEX contacts_by_id ON contacts(contact_id);
CREATE TABLE account_webhooks(
  account_id {int} NOT NULL REFERENCES accounts(id),
  type TEXT NOT NULL,
  url TEXT NOT NULL,
  secret TEXT,
  sendblue_numbers TEXT,
  plain {int} NOT NULL,
  position {int} NOT NULL,
  disabled_at {int},
  PRIMARY KEY(account_id, type, url)){without_rowid};
CREATE TABLE webhook_deliveries(
  id {id},
  message_id {int} NOT NULL,
  kind TEXT NOT NULL,
  url TEXT NOT NULL,
  secret TEXT NOT NULL,
  status TEXT NOT NULL,
  event_at {int} NOT NULL,
  state TEXT NOT NULL,
  attempts {int} NOT NULL DEFAULT 0,
  next_attempt_at {int} NOT NULL,
  last_http_status {int},
  last_latency_ms {int},
  last_error TEXT,
  updated_at {int} NOT NULL,
  requeued_at {int},
  payload TEXT,
  account_id {int},
  owner TEXT);
CREATE INDEX webhook_deliveries_pending ON webhook_deliveries(id) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_message ON webhook_deliveries(message_id);
CREATE INDEX webhook_deliveries_requeued ON webhook_deliveries(requeued_at)
  WHERE requeued_at IS NOT NULL;
CREATE TABLE webhook_attempts(
  id {id},
  delivery_id {int} NOT NULL,
  at {int} NOT NULL,
  http_status {int},
  latency_ms {int} NOT NULL,
  error TEXT);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts(delivery_id);
CREATE TABLE groups(
  id TEXT PRIMARY KEY,
  account_id {int} NOT NULL,
  line_number TEXT NOT NULL,
  members TEXT NOT NULL,
  display_name TEXT NOT NULL DEFAULT '',
  created_at {int} NOT NULL,
  updated_at {int} NOT NULL);
CREATE INDEX groups_by_members ON groups(account_id, line_number, members);
CREATE TABLE conversations(
  account_id {int} NOT NULL,
  contact TEXT NOT NULL,
  created_at {int} NOT NULL,
  message_id {int} NOT NULL,
  PRIMARY KEY(account_id, contact, created_at, message_id)){without_rowid};
CREATE TABLE conversation_watermark(id {int} NOT NULL);
INSERT INTO conversation_watermark VALUES (0);
CREATE TABLE store_epochs(name TEXT PRIMARY KEY, value {int} NOT NULL);
INSERT INTO store_epochs VALUES ('webhooks', 0), ('contacts', 0);
)sql";

// PostgreSQL's named differences (see schema.h).
constexpr const char* kPostgresOnly = R"sql(
CREATE SEQUENCE requeue_marks;
CREATE INDEX messages_contact ON messages(account_id, contact, created_at);
CREATE TABLE nodes(
  id TEXT PRIMARY KEY,
  instance TEXT NOT NULL,
  address TEXT NOT NULL,
  started_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL);
CREATE TABLE line_leases(
  line_number TEXT PRIMARY KEY,
  node_id TEXT NOT NULL,
  acquired_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL);
)sql";

void ReplaceAll(std::string& s, std::string_view from, std::string_view to) {
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) {
    s.replace(at, from.size(), to);
  }
}

}  // namespace

std::string RenderSchema(std::string_view neutral, Engine engine) {
  std::string out(neutral);
  const bool sqlite = engine == Engine::kSqlite;
  ReplaceAll(
      out, "{id}",
      sqlite ? "INTEGER PRIMARY KEY" : "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY");
  ReplaceAll(out, "{int}", sqlite ? "INTEGER" : "BIGINT");
  ReplaceAll(out, "{without_rowid}", sqlite ? " WITHOUT ROWID" : "");
  constexpr std::string_view kOnly = "{postgres_only}", kEnd = "{end_postgres_only}";
  for (size_t at = out.find(kOnly); at != std::string::npos; at = out.find(kOnly, at)) {
    const size_t end = out.find(kEnd, at);
    if (end == std::string::npos) throw std::logic_error("{postgres_only} without its end");
    if (sqlite) {
      out.erase(at, end + kEnd.size() - at);
    } else {
      out.erase(end, kEnd.size());
      out.erase(at, kOnly.size());
    }
  }
  return out;
}

std::string CurrentSchema(Engine engine) {
  std::string out = RenderSchema(kSchema, engine);
  if (engine == Engine::kPostgres) out += kPostgresOnly;
  return out;
}

// After the schema was written once, oldest first. Append; never edit a released entry.
constexpr const char* kSharedMigrations[] = {
    // Shared (free-plan) lines serve several accounts; inbound messages no account registered
    // the sender for are kept for the operator.
    R"sql(
CREATE TABLE line_accounts(
  line_number TEXT NOT NULL,
  account_id {int} NOT NULL REFERENCES accounts(id),
  added_at {int} NOT NULL,
  PRIMARY KEY(line_number, account_id)){without_rowid};
CREATE INDEX line_accounts_account ON line_accounts(account_id);
CREATE TABLE unrouted_inbound(
  id {id},
  line_number TEXT NOT NULL,
  contact TEXT NOT NULL,
  content TEXT NOT NULL,
  media_url TEXT NOT NULL,
  service TEXT NOT NULL,
  received_at {int} NOT NULL);
CREATE INDEX unrouted_inbound_line ON unrouted_inbound(line_number, id);
)sql",
    // An attachment too large for SMS is replaced by a compressed copy; the app's URL is kept.
    R"sql(
ALTER TABLE messages ADD COLUMN original_media_url TEXT;
)sql",
    // Account events written by a process with no event stream (an admin command such as
    // `bluegate sim inbound`) for a running server to publish; rows older than five minutes go.
    R"sql(
CREATE TABLE announced_events(
  seq {id},
  account_id {int} NOT NULL,
  type TEXT NOT NULL,
  data TEXT NOT NULL,
  at {int} NOT NULL);
CREATE INDEX announced_events_at ON announced_events(at);
)sql",
    // QUEUED messages stay in the store and each line pages them in, in order, by whether they
    // start a conversation (QueuedPage); a restart reads only what is in flight.
    R"sql(
DROP INDEX messages_line_queued;
CREATE INDEX messages_line_queued ON messages(line_number, new_contact, id) WHERE status = 'QUEUED';
DROP INDEX messages_unfinished;
CREATE INDEX messages_in_flight ON messages(id)
  WHERE status = 'ACCEPTED' OR (status = 'SENT' AND service = 'iMessage');
)sql",
    // Several keys per account, revoked without being deleted; accounts disabled the same way.
    R"sql(
ALTER TABLE api_keys ADD COLUMN revoked_at {int};
CREATE INDEX api_keys_account ON api_keys(account_id);
ALTER TABLE accounts ADD COLUMN disabled_at {int};
)sql",
    // PostgreSQL: a status change is a heap-only (HOT) update. An index whose columns or
    // condition name a column the update sets gets a new entry for every row version, in each of
    // the table's indexes; so which messages are queued, in flight or started a new conversation
    // is kept in tables of their own, filed by triggers (one statement per batch of status
    // changes), and pages of `messages` keep room for the new versions. SQLite keeps its partial
    // indexes.
    R"sql(
{postgres_only}
CREATE TABLE queued_messages(
  line_number TEXT NOT NULL,
  new_contact BIGINT NOT NULL,
  id BIGINT NOT NULL,
  PRIMARY KEY(line_number, new_contact, id));
CREATE TABLE in_flight_messages(id BIGINT PRIMARY KEY);
CREATE TABLE new_contact_starts(
  line_number TEXT NOT NULL,
  accepted_at BIGINT NOT NULL,
  id BIGINT NOT NULL,
  PRIMARY KEY(line_number, accepted_at, id));
-- One run per INSERT statement (the writer inserts a batch's messages with one).
CREATE FUNCTION messages_file_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO queued_messages
    SELECT line_number, new_contact, id FROM new_rows WHERE status = 'QUEUED';
  INSERT INTO in_flight_messages
    SELECT id FROM new_rows WHERE status = 'ACCEPTED' OR (status = 'SENT' AND service = 'iMessage');
  INSERT INTO new_contact_starts SELECT line_number, accepted_at, id FROM new_rows
    WHERE new_contact = 1 AND accepted_at IS NOT NULL;
  RETURN NULL;
END $$;
-- The sets are probed by their keys, whatever the planner guesses of their size or of the
-- transition tables' (plans made once, when a set was nearly empty, must not scan it later).
CREATE FUNCTION messages_file_removed() RETURNS trigger LANGUAGE plpgsql
SET enable_seqscan = off AS $$
BEGIN
  IF OLD.status = 'QUEUED' THEN
    DELETE FROM queued_messages
      WHERE line_number = OLD.line_number AND new_contact = OLD.new_contact AND id = OLD.id;
  ELSIF OLD.status = 'ACCEPTED' OR (OLD.status = 'SENT' AND OLD.service = 'iMessage') THEN
    DELETE FROM in_flight_messages WHERE id = OLD.id;
  END IF;
  IF OLD.new_contact = 1 AND OLD.accepted_at IS NOT NULL THEN
    DELETE FROM new_contact_starts
      WHERE line_number = OLD.line_number AND accepted_at = OLD.accepted_at AND id = OLD.id;
  END IF;
  RETURN NULL;
END $$;
-- One run per UPDATE statement, over the rows it changed: a row leaves a set when it no longer
-- belongs or its key changed, and joins when it belongs anew or under a new key.
CREATE FUNCTION messages_file_changed() RETURNS trigger LANGUAGE plpgsql
SET enable_seqscan = off AS $$
BEGIN
  DELETE FROM queued_messages q USING (
      SELECT line_number, new_contact, id FROM old_rows WHERE status = 'QUEUED'
      EXCEPT SELECT line_number, new_contact, id FROM new_rows WHERE status = 'QUEUED') g
    WHERE q.line_number = g.line_number AND q.new_contact = g.new_contact AND q.id = g.id;
  INSERT INTO queued_messages
    SELECT line_number, new_contact, id FROM new_rows WHERE status = 'QUEUED'
    EXCEPT SELECT line_number, new_contact, id FROM old_rows WHERE status = 'QUEUED';
  DELETE FROM in_flight_messages f USING (
      SELECT id FROM old_rows
        WHERE status = 'ACCEPTED' OR (status = 'SENT' AND service = 'iMessage')
      EXCEPT SELECT id FROM new_rows
        WHERE status = 'ACCEPTED' OR (status = 'SENT' AND service = 'iMessage')) g
    WHERE f.id = g.id;
  INSERT INTO in_flight_messages
    SELECT id FROM new_rows WHERE status = 'ACCEPTED' OR (status = 'SENT' AND service = 'iMessage')
    EXCEPT SELECT id FROM old_rows
      WHERE status = 'ACCEPTED' OR (status = 'SENT' AND service = 'iMessage');
  DELETE FROM new_contact_starts s USING (
      SELECT line_number, accepted_at, id FROM old_rows
        WHERE new_contact = 1 AND accepted_at IS NOT NULL
      EXCEPT SELECT line_number, accepted_at, id FROM new_rows
        WHERE new_contact = 1 AND accepted_at IS NOT NULL) g
    WHERE s.line_number = g.line_number AND s.accepted_at = g.accepted_at AND s.id = g.id;
  INSERT INTO new_contact_starts
    SELECT line_number, accepted_at, id FROM new_rows
      WHERE new_contact = 1 AND accepted_at IS NOT NULL
    EXCEPT SELECT line_number, accepted_at, id FROM old_rows
      WHERE new_contact = 1 AND accepted_at IS NOT NULL;
  RETURN NULL;
END $$;
CREATE TRIGGER messages_added AFTER INSERT ON messages REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION messages_file_added();
CREATE TRIGGER messages_removed AFTER DELETE ON messages
  FOR EACH ROW EXECUTE FUNCTION messages_file_removed();
CREATE TRIGGER messages_changed AFTER UPDATE ON messages
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION messages_file_changed();
INSERT INTO queued_messages SELECT line_number, new_contact, id FROM messages
  WHERE status = 'QUEUED';
INSERT INTO in_flight_messages SELECT id FROM messages
  WHERE status = 'ACCEPTED' OR (status = 'SENT' AND service = 'iMessage');
INSERT INTO new_contact_starts SELECT line_number, accepted_at, id FROM messages
  WHERE new_contact = 1 AND accepted_at IS NOT NULL;
DROP INDEX messages_line_queued;
DROP INDEX messages_in_flight;
DROP INDEX messages_new_contact_starts;
ALTER TABLE messages SET (fillfactor = 80);
{end_postgres_only}
)sql",
};

std::span<const char* const> SharedMigrations() { return kSharedMigrations; }

}  // namespace bluegate::store
