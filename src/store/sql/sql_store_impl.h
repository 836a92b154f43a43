// The SQL store's class, whose definitions are split by role: sql_store.cc (construction, health),
// message_log.cc, message_queries.cc, delivery_log.cc, directory.cc, contact_book.cc,
// webhook_configs.cc, and batch.cc (what a batch does besides its writes: the writer engine
// itself, writer.h, knows no table). Internal to store/sql/: everything else sees store/store.h
// and MakeSqlStore.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "core/clock.h"
#include "store/sql/contacts.h"
#include "store/sql/db.h"
#include "store/sql/rows.h"
#include "store/sql/sql_store.h"
#include "store/sql/statements.h"
#include "store/sql/writer.h"
#include "store/store.h"

namespace bluegate::store {

class SqlStore final : public Store, private BatchHooks {
 private:
  // What a transition reads of its message.
  struct MessageState {
    Status status = Status::kQueued;
    Service service = Service::kIMessage;
    std::string callback;
    int64_t account_id = 0;
    bool outbound = false;
    std::string line;
    TimePoint created_at{};
  };

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

  struct Target {
    std::string kind;
    std::string url;
    std::string secret;
  };

  struct Hook {
    std::string url;
    std::string secret;  // the entry's, or the account's global one
    std::optional<std::string> numbers;
  };

  struct Binding {
    int64_t account_id;
    std::string contact;
    std::string line;
    int64_t at;
    std::string contact_id;  // if the binding creates the contact
  };

  // A transition's change to its message row, written with the batch's others at its end
  // (PostgreSQL; see WriteStatusChanges).
  struct StatusChange {
    int64_t message_id;
    Status to;
    int64_t at;
    std::optional<MessageError> error;
    std::optional<Service> service;
    std::optional<bool> was_downgraded;
  };

  struct StoreEvent {
    int64_t account_id;
    std::string type;
    std::string data;
    TimePoint at;
  };

 public:
  SqlStore(SqlEngine engine, Clock& clock);
  ~SqlStore() override;

  // --- MessageLog (sql/message_log.cc) ---
  void Accept(Message m, AcceptPolicy policy, std::function<void(Result<Message>)> done) override;
  void Transition(TransitionRequest r,
                  std::function<void(Result<TransitionOutcome>)> done) override;
  void MarkRead(int64_t message_id, TimePoint at,
                std::function<void(Result<Message>)> done) override;
  void ReplaceMedia(int64_t message_id, std::string media_url,
                    std::function<void(Result<Ok>)> done) override;
  void RecordInbound(Message m, std::function<void(Result<Message>)> done) override;
  void RecordSharedInbound(Message m, std::vector<int64_t> accounts,
                           std::function<void(Result<std::vector<Message>>)> done) override;
  void RecordEvent(int64_t account_id, std::string type, std::string payload,
                   std::optional<std::string> line, std::function<void(Result<Ok>)> done) override;
  void SetEventObserver(
      std::function<bool(int64_t)> wants,
      std::function<void(int64_t, const std::string&, const std::string&, TimePoint)> publish)
      override;
  void SetDeliveryObserver(std::function<void(std::vector<Delivery>)> observer) override;
  Result<int64_t> PruneMessages(TimePoint cutoff) override;  // sql/retention.cc

  // --- MessageQueries (sql/message_queries.cc) ---
  Result<Message> FindMessage(int64_t account_id, std::string_view handle) override;
  Result<Message> FindMessageById(int64_t id) override;
  Result<std::vector<Message>> FindMessagesByIds(const std::vector<int64_t>& ids) override;
  Result<MessagePage> ListMessages(const MessageQuery& q) override;
  Result<std::vector<Message>> InFlightOutbound(std::optional<std::string> line) override;
  Result<std::vector<Message>> QueuedPage(std::string_view line, bool new_contact, int64_t after,
                                          int limit) override;
  Result<std::map<std::string, QueuedCount>> QueuedByLine(std::optional<std::string> line) override;
  Result<std::vector<UnroutedInbound>> ListUnrouted(std::optional<std::string> line,
                                                    int limit) override;
  Result<int64_t> CountSmsSince(std::string_view line, TimePoint since) override;
  Result<std::vector<TimePoint>> NewContactStarts(std::string_view line, TimePoint since) override;
  Result<AnnouncedEvents> AnnouncedEventsSince(int64_t after, int limit) override;

  // --- DeliveryLog (sql/delivery_log.cc) ---
  void RecordAttempts(std::vector<DeliveryAttempt> attempts,
                      std::function<void(Result<Ok>)> done) override;
  void WriteAttempt(WriterStatements& st, const DeliveryAttempt& a);
  Result<std::vector<Delivery>> PendingDeliveries() override;
  Result<std::vector<Delivery>> PendingDeliveriesOf(int64_t message_id) override;
  Result<std::vector<Delivery>> DeliveriesForMessage(int64_t message_id) override;
  Result<DeliveryPage> ListDeliveries(const DeliveryQuery& q) override;
  Result<Delivery> RequeueDelivery(std::optional<int64_t> account_id, int64_t delivery_id) override;
  Result<std::pair<std::vector<Delivery>, int64_t>> RequeuedSince(int64_t since) override;
  Result<int64_t> PruneDeliveries(TimePoint cutoff) override;

  // --- Accounts (sql/accounts.cc) ---
  Result<Account> CreateAccount(std::string_view email, std::string_view plan) override;
  Result<Account> FindAccount(int64_t id) override;
  Result<Account> FindAccountByEmail(std::string_view email) override;
  Result<Ok> AddApiKey(const ApiKey& key) override;
  Result<ApiKey> FindApiKey(std::string_view key_id) override;
  Result<std::vector<Account>> ListAccounts() override;
  Result<Account> SetAccountPlan(int64_t id, std::string_view plan) override;
  Result<Account> SetAccountDisabled(int64_t id, bool disabled) override;
  Result<std::vector<ApiKey>> ListApiKeys(int64_t account_id) override;
  Result<ApiKey> RevokeApiKey(std::string_view key_id) override;

  // --- Directory (sql/directory.cc) ---
  Result<Line> AddLine(const Line& line) override;
  Result<Line> FindLine(std::string_view number) override;
  Result<std::vector<Line>> ListLines(std::optional<int64_t> account_id) override;
  Result<Line> SetLineSettings(std::string_view number, const LineSettings& settings) override;
  Result<Line> ShareLine(std::string_view number, int64_t account_id, bool share) override;
  Result<Line> SetLineOptions(std::string_view number, const std::string& options_json) override;
  Result<LineRemoval> RemoveLine(std::string_view number, QueuedOnRemoval queued,
                                 std::optional<std::string> move_to) override;
  Result<std::pair<std::vector<std::string>, int64_t>> LineChangesSince(int64_t since) override;

  // --- Contacts (sql/contact_book.cc) ---
  std::optional<std::string> KnownRoute(int64_t account_id, std::string_view contact) override;
  Result<std::optional<std::string>> FindRoute(int64_t account_id,
                                               std::string_view contact) override;
  Result<Group> FindOrCreateGroup(int64_t account_id, const std::string& line,
                                  std::vector<std::string> participants,
                                  const std::string& new_id) override;
  Result<Group> FindGroup(int64_t account_id, std::string_view id) override;
  Result<Group> ModifyGroup(int64_t account_id, std::string_view id, bool add,
                            const std::string& number) override;
  void ForgetRoutes(std::string_view line) override;
  Result<Contact> WriteContact(int64_t account_id, const std::string& number,
                               const ContactFields& fields, ContactWrite mode) override;
  Result<std::vector<Contact>> WriteContacts(
      int64_t account_id, const std::vector<std::pair<std::string, ContactFields>>& batch) override;
  Result<Contact> FindContact(int64_t account_id, std::string_view number) override;
  Result<std::vector<Contact>> ListContacts(const ContactQuery& q) override;
  Result<int64_t> CountContacts(int64_t account_id) override;
  Result<int64_t> DeleteContacts(int64_t account_id,
                                 const std::vector<std::string>& numbers_or_ids) override;

  // --- WebhookConfigs (sql/webhook_configs.cc) ---
  Result<WebhookConfig> GetWebhooks(int64_t account_id) override;
  Result<WebhookConfig> AddWebhooks(int64_t account_id, const std::string& type,
                                    std::vector<WebhookEntry> entries,
                                    std::optional<std::string> global_secret) override;
  Result<WebhookConfig> ReplaceWebhooks(int64_t account_id, WebhookConfig config) override;
  Result<WebhookConfig> DeleteWebhooks(int64_t account_id, const std::string& type,
                                       std::vector<std::string> urls) override;

  // --- health (sql/sql_store.cc) ---
  bool healthy() const override;
  uint64_t ConnectionLosses() const override;
  WriteStats Stats() const override;
  void Flush() override;

 private:
  // --- BatchHooks (sql/batch.cc) ---
  void BeginBatch(const std::vector<WriteKeys>& keys, bool isolate) override;
  void BeforeWrite() override;
  void WriteFailed() override;
  bool EndBatch() override;
  void RolledBack() override;
  void AfterBatch(bool committed) override;

  // MessageLog (sql/message_log.cc)
  static MessageState ReadState(const Stmt& s, int first);
  Result<TransitionOutcome> ApplyTransition(WriterStatements& st, const TransitionRequest& r,
                                            std::vector<Delivery>& created);
  static void BindError(Stmt& s, const std::optional<MessageError>& e);
  Message LoadMessage(WriterStatements& st, int64_t id);
  bool EndpointGone(WriterStatements& st, int64_t message_id, const std::string& url);
  ContactState& CachedContact(WriterStatements& st, const std::string& key, int64_t account_id,
                              const std::string& number);
  static ContactState ReadContactState(const Stmt& s, int first);
  void ForgetContact(int64_t account_id, const std::string& number);
  void AfterContactWrite(WriterStatements& st, int64_t account_id, const contacts::Written& w,
                         std::vector<Delivery>& created);
  void ContactCreated(WriterStatements& st, int64_t account_id, const std::string& number,
                      const std::string& line, std::vector<Delivery>& created);
  std::vector<Target> Targets(WriterStatements& st, int64_t message_id, int64_t account_id,
                              const std::string& callback, const char* type,
                              const std::string& line);
  const std::vector<Hook>& HooksOf(WriterStatements& st, int64_t account_id, const char* type);
  Delivery InsertDelivery(WriterStatements& st, int64_t message_id, const Target& target,
                          Status status, TimePoint at, const std::string* payload = nullptr,
                          int64_t account_id = 0);
  int64_t InsertMessage(WriterStatements& st, const Message& m);
  Message InsertInbound(WriterStatements& st, Message m, std::vector<Delivery>& created);
  void AnnounceReceived(const Message& m);
  void WriteAnnouncedEvents();
  static int64_t NextId(Stmt& take, std::deque<int64_t>& pool);
  Result<Message> InsertGroupMessage(WriterStatements& st, Message m,
                                     std::vector<Delivery>& created);
  const std::string& LineHolder(const std::string& line) const;
  bool WantsContactCreated(WriterStatements& st, int64_t account_id, const std::string& line);

  // DeliveryLog (sql/delivery_log.cc)
  Result<std::vector<Delivery>> Pending(std::optional<int64_t> message_id);

  // Directory (sql/directory.cc)
  Result<Line> UpdateLine(std::string_view number, const char* column, std::string value);

  // Contacts (sql/contact_book.cc)
  void RememberRoute(std::string key, const std::string& line);
  static Group ReadGroup(Db* db, const std::string& id);

  // WebhookConfigs (sql/webhook_configs.cc)
  static WebhookConfig LoadWebhooks(Db* db, int64_t account_id);
  static void InsertWebhook(Db* db, int64_t account_id, const std::string& type,
                            const WebhookEntry& e, int64_t position);
  static void SetGlobalSecret(Db* db, int64_t account_id, const std::optional<std::string>& secret);

  // the batch (sql/batch.cc)
  void SendPrefetch(const std::vector<WriteKeys>& batch);
  void PrefetchStates(const std::vector<WriteKeys>& batch);
  bool WriteBindings();
  void WriteStatusChanges();
  void WriteNewMessages();
  void RefreshCaches();

  // core (sql/sql_store.cc)
  std::optional<std::string> OwnNode() const;
  void HousekeepingLoop();

  // Templates of the write and read paths.
  // Runs `apply` on the writer thread inside its transaction and waits for the commit.
  template <typename T, typename Fn>
  Result<T> WriteSync(Fn apply) {
    std::promise<Result<T>> promise;
    auto future = promise.get_future();
    Enqueue<T>(std::move(apply), [&promise](Result<T> r) { promise.set_value(std::move(r)); });
    return future.get();
  }

  // What a write reads of message rows. kStatesOnly: nothing, or only through batch_states_
  // (accepts, transitions, delivery attempts), so it may run while the batch's status changes
  // are unwritten; before any other write they are written (WriteStatusChanges).
  enum class Reads { kMessages, kStatesOnly };

  template <typename T, typename Fn>
  void Enqueue(Fn apply, std::function<void(Result<T>)> done, WriteKeys keys = {},
               Reads reads = Reads::kMessages, bool lazy = false) {
    auto result = std::make_shared<std::optional<Result<T>>>();
    WriteOp op;
    op.keys = std::move(keys);
    op.lazy = lazy;
    op.apply = [this, result, reads, apply = std::move(apply)](bool alone) mutable {
      try {
        if (reads == Reads::kMessages) WriteStatusChanges();
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
    op.finish = [result, done = std::move(done), max = engine_.max_pending](WriteEnd end) {
      if (end == WriteEnd::kCommitted) return done(std::move(**result));
      if (end == WriteEnd::kOverloaded) {
        return done(Error{ErrorKind::kOverloaded,
                          "The server is overloaded: " + std::to_string(max) +
                              " writes already wait for its store (store.max_queued_writes); "
                              "retry shortly",
                          ErrorCode::kServerRateExceeded, Millis(1000)});
      }
      done(Error::Storage("the store could not commit; the request was not stored"));
    };
    writer_->Enqueue(std::move(op));
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

  // State.
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
  std::vector<Binding> pending_bindings_;     // writer thread: this batch's, to verify (PostgreSQL)
  std::vector<StatusChange> status_changes_;  // writer thread: this batch's, not yet written
  MessageRows new_messages_;                  // writer thread: this batch's, not yet written
  size_t status_mark_ = 0;                    // writer thread: where the current write's begin
  bool states_sent_ = false, holders_sent_ = false;  // writer thread: by SendPrefetch
  bool isolating_ = false;                           // writer thread: the batch runs write by write
  int64_t contacts_epoch_ = -1;  // writer thread: store_epochs 'contacts' when last read
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
  std::vector<StoreEvent> pending_events_;  // writer thread: told after the commit
  std::function<bool(int64_t)> event_wants_;
  std::function<void(int64_t, const std::string&, const std::string&, TimePoint)> event_publish_;
  int64_t data_version_ = -1;    // writer thread: PRAGMA data_version when last read
  int64_t webhooks_epoch_ = -1;  // writer thread: store_epochs 'webhooks' when last read
  std::unique_ptr<Db> housekeeping_db_;

  // Writer thread only: account id → webhook type → enabled hooks.
  std::unordered_map<int64_t, std::map<std::string, std::vector<Hook>, std::less<>>> hooks_cache_;
  // SQLite, writer thread: whether any delivery was ever recorded `disabled` (a receiver's 410
  // for a message); read once, then set by WriteAttempt. While false, EndpointGone needs no
  // query. Only this process writes that state; PostgreSQL (other nodes write it) always asks.
  std::optional<bool> any_disabled_;
  std::thread housekeeper_;
  std::mutex routes_mu_;
  std::unordered_map<std::string, std::string> routes_;  // "account/contact" → bound line

  // Writer thread only: "account/contact" → what Accept needs of the contact row.
  std::unordered_map<std::string, ContactState> contact_cache_;
  std::atomic<bool> contacts_stale_{false};
  std::mutex readers_mu_;
  std::vector<std::unique_ptr<Conn>> readers_;
};

}  // namespace bluegate::store
