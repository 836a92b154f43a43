// The Store: everything bluegate knows, durably. Start reading here for the data model; the
// schema in prose is docs/schema.md.
//
// Writes that carry messages (Accept, Transition, MarkRead, RecordInbound, RecordAttempt) are
// asynchronous and group-committed: many callers' writes share one transaction and one fsync.
// Their `done` callbacks run on the store's writer thread after the commit is on disk (or failed);
// they must be quick and must not block on the store. A commit failure is sticky: once the store
// cannot tell whether a commit landed, every later write fails with kStorageFailure until restart
// (fail closed: never acknowledge what may be lost).
//
// Reads and admin calls are synchronous and thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/message.h"
#include "core/result.h"

namespace bluegate::store {

struct Account {
  int64_t id = 0;
  std::string email;
  std::string plan;
};

struct ApiKey {
  std::string key_id;
  int64_t account_id = 0;
  std::string salt;
  std::string secret_hash;  // hex HMAC-SHA256(salt, secret), or "scrypt$N$r$p$hex" (api/auth.h)
};

// A line's own limits and policy, set by `bluegate lines set` and stored with the line. An unset
// field takes the configuration's value for the line ([lines] and [lines.overrides."+1..."]).
struct LineSettings {
  std::optional<double> burst_per_second;
  std::optional<int64_t> queue_capacity;
  std::optional<int64_t> new_contacts_per_day;
  std::optional<int64_t> new_contacts_per_hour;
  std::optional<Millis> new_contact_after;  // silence after which a contact is new again
  std::optional<Millis> resolve_timeout;
  std::optional<bool> shared;  // a shared (free-plan) line sends only to verified contacts

  bool empty() const {
    return !burst_per_second && !queue_capacity && !new_contacts_per_day &&
           !new_contacts_per_hour && !new_contact_after && !resolve_timeout && !shared;
  }
};

struct Line {
  std::string number;  // E.164
  int64_t account_id = 0;
  std::string carrier;       // "sim"
  std::string options_json;  // carrier settings, "{}" when none
  LineSettings settings;
};

// What becomes of the messages waiting in QUEUED on a line that is removed.
enum class QueuedOnRemoval {
  kRefuse,  // remove nothing if any message waits (the caller asks the operator)
  kFail,    // they end in ERROR 10001, their callbacks told
  kMove,    // they move, with the line's contacts, to another line of the same account
};

struct LineRemoval {
  int64_t failed = 0;            // queued messages that ended in ERROR
  int64_t moved = 0;             // queued messages moved to the other line
  int64_t contacts_rebound = 0;  // contacts bound to the other line (kMove) or unbound
};

// A contact of an account (the SDK's `contacts` resource). The row also carries the recipient's
// opt-out, verification and line binding, which messages keep up to date.
struct Contact {
  std::string contact_id;  // immutable identity (a UUID), new when a deleted contact returns
  std::string number;      // E.164
  std::string first_name;
  std::string last_name;
  std::string company_name;
  std::string assigned_to_email;
  std::vector<std::string> tags;
  std::map<std::string, std::string> custom_variables;
  std::optional<std::string> line;  // the line the contact is bound to (sendblue_number)
  bool opted_out = false;
  bool verified = false;  // the contact has written to one of the account's lines
  TimePoint created_at{};
  TimePoint updated_at{};
};

// The fields a contact write sets; an unset field is left as it is.
struct ContactFields {
  std::optional<std::string> first_name;
  std::optional<std::string> last_name;
  std::optional<std::string> company_name;
  std::optional<std::string> assigned_to_email;
  std::optional<std::vector<std::string>> tags;         // replaces the tags
  std::map<std::string, std::string> custom_variables;  // merged into the existing ones
  std::optional<std::string> line;  // binds (or re-binds) the contact to this line
  std::optional<bool> opted_out;
};

enum class ContactWrite {
  kCreate,          // a contact with this number must not exist (kConflict)
  kCreateOrUpdate,  // creates it, or updates the existing one
  kUpdate,          // it must exist (kNotFound)
};

struct ContactQuery {
  int64_t account_id = 0;
  std::optional<std::string> contact_id;
  std::optional<std::string> number;
  std::optional<TimePoint> created_gte;
  enum class Order {
    kCreated,
    kUpdated,
    kNumber,
    kFirstName,
    kLastName
  } order_by = Order::kCreated;
  bool descending = true;
  int limit = 100;
  int offset = 0;
};

// A group conversation on one line (POST /api/send-group-message).
struct Group {
  std::string id;  // group_id: a UUID
  int64_t account_id = 0;
  std::string line;
  std::vector<std::string> participants;  // E.164, sorted
  std::string display_name;
  TimePoint created_at{};
  TimePoint updated_at{};
};

// How a send is checked against its line's policy when it is stored.
struct AcceptPolicy {
  Millis new_contact_after{std::chrono::hours(24 * 30)};  // the line's "new contact" silence
  bool verified_only = false;  // a shared line: only verified contacts (else DECLINED)
  bool verification = false;   // the message asks the contact to verify: exempt from the above
};

// Account webhooks (SPEC.md §5): entries by event type, as the Sendblue SDK configures them.
inline constexpr const char* kWebhookTypes[] = {"receive",      "outbound",      "typing_indicator",
                                                "line_blocked", "line_assigned", "contact_created",
                                                "call_log",     "inbound_call",  "contact_profile"};

struct WebhookEntry {
  std::string url;
  std::optional<std::string> secret;                         // else the account's global secret
  std::optional<std::vector<std::string>> sendblue_numbers;  // receive: only these lines
  bool plain = true;                     // given as a bare URL string (and shown back that way)
  std::optional<TimePoint> disabled_at;  // the endpoint answered 410 Gone
};

struct WebhookConfig {
  std::map<std::string, std::vector<WebhookEntry>> by_type;
  std::optional<std::string> global_secret;
};

enum class DeliveryState { kPending, kDelivered, kFailed, kDisabled };
std::string_view DeliveryStateName(DeliveryState s);

// One webhook delivery: one event (a message at a status) to one URL.
// One webhook delivery: one event to one URL. A message event (message_id set) is rendered from
// the message when sent; any other event (line_assigned, contact_created, ...) carries its JSON
// `payload` and has message_id 0.
struct Delivery {
  int64_t id = 0;
  int64_t message_id = 0;
  std::string kind;  // "status_callback", or the account webhook type ("outbound", "receive", ...)
  std::string url;
  // The signing secret (empty: unsigned). Not stored with the delivery: read from its webhook's
  // configuration (its own secret, else the account's global one) whenever it is loaded.
  std::string secret;
  Status status = Status::kQueued;  // the status a message event announces
  TimePoint event_at{};
  int attempts = 0;
  TimePoint next_attempt_at{};
  std::string payload;  // non-message events only
  // Scale-out: the node that dispatches it, when not this process. A message's deliveries are
  // dispatched by the node driving its line, so that one node tells its whole story in order.
  std::string owner;
};

struct TransitionRequest {
  int64_t message_id = 0;
  Status to = Status::kAccepted;
  TimePoint at{};
  std::optional<MessageError> error;  // for ERROR and DECLINED
  std::optional<Service> service;     // set when the carrier says which service carried it
  std::optional<bool> was_downgraded;
  std::string source;    // who reported it: "queue", "carrier:sim", "resolve-timeout", "recovery"
  bool receipt = false;  // the carrier's delivery receipt (moves an SMS on from SENT)
  // Applies only while the message is still on this line (it may have moved to another line,
  // with the line's removal, after the queue took it).
  std::optional<std::string> expect_line;
};

struct TransitionOutcome {
  bool applied = false;             // false: a late or duplicate report, recorded and ignored
  Status status = Status::kQueued;  // the message's status afterwards
  std::string line;                 // the message's line afterwards
};

struct DeliveryAttempt {
  int64_t delivery_id = 0;
  TimePoint at{};
  int http_status = 0;  // 0: no HTTP response (timeout, connection error)
  Millis latency{0};
  std::string error;
  DeliveryState new_state = DeliveryState::kPending;
  std::optional<TimePoint> next_attempt_at;  // for kPending
  // A first attempt that succeeded is fully told by the delivery row itself (attempts = 1,
  // last_http_status, last_latency_ms, updated_at), so it writes no webhook_attempts row.
  bool first_try_success = false;
  // The receiver answered 410 to an account webhook: disable that URL for the message's account.
  bool disable_endpoint = false;
  std::string url;         // with disable_endpoint
  int64_t message_id = 0;  // with disable_endpoint
};

// GET /api/v2/messages: every filter the SDK sends. Unset fields do not filter.
struct MessageQuery {
  int64_t account_id = 0;
  std::optional<std::string> number;       // the contact
  std::optional<std::string> from_number;  // the sender (line for outbound, contact for inbound)
  std::optional<std::string> to_number;    // the recipient
  std::optional<std::string> line;         // sendblue_number
  std::optional<std::string> group_id;
  std::optional<std::string> message_type;
  std::optional<bool> is_outbound;
  std::optional<Status> status;
  std::optional<Service> service;
  std::optional<TimePoint> created_gte, created_lte, updated_gte, updated_lte;
  enum class Order { kCreated, kUpdated } order_by = Order::kCreated;
  bool descending = true;
  int limit = 50;
  int offset = 0;
};

struct MessagePage {
  std::vector<Message> data;
  int64_t total = 0;
};

// The webhook delivery log (GET /api/v2/webhooks/deliveries, `bluegate webhooks list`).
struct DeliveryQuery {
  std::optional<int64_t> account_id;  // nullopt: every account (the admin CLI)
  std::optional<std::string> message_handle;
  std::optional<std::string> url;
  std::optional<DeliveryState> state;
  int limit = 50;
  int offset = 0;
};

struct AttemptRecord {
  TimePoint at{};
  int http_status = 0;  // 0: no HTTP response
  Millis latency{0};
  std::string error;
};

struct DeliveryRecord {
  Delivery delivery;
  std::string message_handle;
  DeliveryState state = DeliveryState::kPending;
  TimePoint updated_at{};
  std::vector<AttemptRecord> attempt_log;  // oldest first
};

struct DeliveryPage {
  std::vector<DeliveryRecord> data;
  int64_t total = 0;
};

class Store {
 public:
  virtual ~Store() = default;

  // --- Accounts, keys and lines (synchronous). ---
  virtual Result<Account> CreateAccount(std::string_view email, std::string_view plan) = 0;
  virtual Result<Account> FindAccount(int64_t id) = 0;
  virtual Result<Account> FindAccountByEmail(std::string_view email) = 0;
  virtual Result<Ok> AddApiKey(const ApiKey& key) = 0;
  virtual Result<ApiKey> FindApiKey(std::string_view key_id) = 0;
  virtual Result<Line> AddLine(const Line& line) = 0;
  virtual Result<Line> FindLine(std::string_view number) = 0;
  // All lines, or one account's.
  virtual Result<std::vector<Line>> ListLines(std::optional<int64_t> account_id) = 0;
  // Replaces the line's own settings.
  virtual Result<Line> SetLineSettings(std::string_view number, const LineSettings& settings) = 0;
  // Replaces the line's carrier options (a JSON object of strings; see carriers/options.h).
  virtual Result<Line> SetLineOptions(std::string_view number, const std::string& options_json) = 0;
  // Messages waiting in QUEUED on the line.
  virtual Result<int64_t> CountQueued(std::string_view line) = 0;
  // Removes a line in one transaction, with its queued messages handled as `queued` says
  // (`move_to` for kMove: another line of the same account). kRefuse with messages waiting is
  // kConflict and changes nothing. Messages already handed to the carrier are left to finish.
  virtual Result<LineRemoval> RemoveLine(std::string_view number, QueuedOnRemoval queued,
                                         std::optional<std::string> move_to) = 0;
  // Lines added, changed or removed after change `since` (0: from the start), by any process,
  // with the newest change's number.
  virtual Result<std::pair<std::vector<std::string>, int64_t>> LineChangesSince(int64_t since) = 0;
  // When the line's new-contact messages were handed to its carrier, from `since` on, oldest
  // first: restores the line's new-contact window after a restart.
  virtual Result<std::vector<TimePoint>> NewContactStarts(std::string_view line,
                                                          TimePoint since) = 0;

  // --- Account webhooks (synchronous; written through the writer, so they apply to every
  // message committed after the call returns). ---
  virtual Result<WebhookConfig> GetWebhooks(int64_t account_id) = 0;
  // Appends entries of one type (an entry whose URL is already there replaces it) and, when
  // given, sets the global secret.
  virtual Result<WebhookConfig> AddWebhooks(int64_t account_id, const std::string& type,
                                            std::vector<WebhookEntry> entries,
                                            std::optional<std::string> global_secret) = 0;
  // Replaces the whole configuration.
  virtual Result<WebhookConfig> ReplaceWebhooks(int64_t account_id, WebhookConfig config) = 0;
  // Removes these URLs from one type.
  virtual Result<WebhookConfig> DeleteWebhooks(int64_t account_id, const std::string& type,
                                               std::vector<std::string> urls) = 0;

  // --- Message writes (asynchronous, group-committed). ---

  // Stores a new outbound message whose status is QUEUED, or DECLINED (with its error) when the
  // contact has opted out. The first message to a contact binds it to the message's line (and
  // records contact_created); a message to a contact bound to another line is refused
  // (kInvalidArgument naming the bound line), atomically with the binding. Writes the deliveries
  // for REGISTERED, PENDING and that status to the message's status_callback and to the account's
  // `outbound` webhooks. Returns the stored message (id set).
  // A contact silent for `policy.new_contact_after` starts a conversation again (new_contact);
  // on a shared line an unverified contact is DECLINED unless the message is the verification
  // request itself.
  virtual void Accept(Message m, AcceptPolicy policy,
                      std::function<void(Result<Message>)> done) = 0;

  // Moves a message to a new status if CanTransition allows it, writing the webhook deliveries of
  // the change in the same transaction. A report that would move the status backwards or out of
  // a final status is recorded in message_events and otherwise ignored (applied = false).
  virtual void Transition(TransitionRequest r,
                          std::function<void(Result<TransitionOutcome>)> done) = 0;

  // Sets date_read (a read receipt adds no status).
  virtual void MarkRead(int64_t message_id, TimePoint at,
                        std::function<void(Result<Message>)> done) = 0;

  // Stores an inbound message (status RECEIVED) with a delivery to each of the account's `receive`
  // webhooks that takes this line. STOP-family keywords opt the contact out of the line's
  // account, START-family opt it back in (SPEC.md §6).
  virtual void RecordInbound(Message m, std::function<void(Result<Message>)> done) = 0;

  // An account event that is not a message (line_assigned, contact_created, line_blocked,
  // typing_indicator): a delivery of `payload` (a JSON object) to each of the account's webhooks
  // of `type` (that take `line`, when one is given). Deliveries made by another process (an
  // admin command) reach a running server through its re-queue poll.
  virtual void RecordEvent(int64_t account_id, std::string type, std::string payload,
                           std::optional<std::string> line,
                           std::function<void(Result<Ok>)> done) = 0;

  // Records one webhook delivery attempt and the delivery's new state.
  virtual void RecordAttempt(DeliveryAttempt a, std::function<void(Result<Ok>)> done) = 0;

  // Called on the writer thread after each commit with the deliveries that commit created, in
  // creation order. Set once, before the first write.
  virtual void SetDeliveryObserver(std::function<void(std::vector<Delivery>)> observer) = 0;

  // Account events the store alone sees happen (today: "contact.created", data the
  // contact_created payload), told after their commit on the writer thread, to accounts for
  // which `wants` (called on the writer thread; keep it cheap) says someone listens. Set once,
  // before the first write.
  virtual void SetEventObserver(std::function<bool(int64_t account_id)> wants,
                                std::function<void(int64_t account_id, const std::string& type,
                                                   const std::string& data, TimePoint at)>
                                    publish) = 0;

  // --- Routes (SPEC.md §6): the first message between a contact and a line binds them. ---
  // The line `contact` is bound to in the account, if any.
  virtual Result<std::optional<std::string>> FindRoute(int64_t account_id,
                                                       std::string_view contact) = 0;
  // The binding as this process already knows it, without asking the database (nullopt: not
  // known to be bound). Accept checks the binding again, atomically, so a send that names its
  // line needs no more than this up front.
  virtual std::optional<std::string> KnownRoute(int64_t account_id, std::string_view contact) = 0;
  // Drops this process's cached routes to `line` (it was removed or its contacts moved, perhaps
  // by another process).
  virtual void ForgetRoutes(std::string_view line) = 0;

  // --- Groups (synchronous). ---
  // The account's group on `line` with exactly these participants, created (with `new_id`) when
  // there is none: a second send to the same people continues their group.
  virtual Result<Group> FindOrCreateGroup(int64_t account_id, const std::string& line,
                                          std::vector<std::string> participants,
                                          const std::string& new_id) = 0;
  virtual Result<Group> FindGroup(int64_t account_id, std::string_view id) = 0;
  // Adds or removes one participant (kInvalidArgument below 2 or above 25 participants).
  virtual Result<Group> ModifyGroup(int64_t account_id, std::string_view id, bool add,
                                    const std::string& number) = 0;

  // --- Contacts (synchronous; through the writer, like messages, since messages bind them). A
  // created contact fires the account's contact_created webhooks. ---
  virtual Result<Contact> WriteContact(int64_t account_id, const std::string& number,
                                       const ContactFields& fields, ContactWrite mode) = 0;
  // Creates or updates each, all or none.
  virtual Result<std::vector<Contact>> WriteContacts(
      int64_t account_id, const std::vector<std::pair<std::string, ContactFields>>& batch) = 0;
  virtual Result<Contact> FindContact(int64_t account_id, std::string_view number) = 0;
  virtual Result<std::vector<Contact>> ListContacts(const ContactQuery& q) = 0;
  virtual Result<int64_t> CountContacts(int64_t account_id) = 0;
  // Deletes the contacts named by number or contact_id; returns how many went. The recipient's
  // opt-out and line binding survive the contact: deleting a contact never lets a message
  // reach someone who said STOP, nor moves them to another line.
  virtual Result<int64_t> DeleteContacts(int64_t account_id,
                                         const std::vector<std::string>& numbers_or_ids) = 0;

  // --- Reads (synchronous). ---
  virtual Result<Message> FindMessage(int64_t account_id, std::string_view handle) = 0;
  virtual Result<Message> FindMessageById(int64_t id) = 0;
  virtual Result<MessagePage> ListMessages(const MessageQuery& q) = 0;
  // Outbound messages a restart must pick up, oldest first: QUEUED (waiting), ACCEPTED (handed
  // to a carrier, outcome unknown) and SENT over iMessage (awaiting delivery). With `line`, only
  // that line's (a node taking a line over).
  virtual Result<std::vector<Message>> UnfinishedOutbound(
      std::optional<std::string> line = std::nullopt) = 0;
  // Deliveries still due, in creation order.
  // On PostgreSQL, only this node's (see Delivery::owner; others' are claimed when their node
  // goes).
  virtual Result<std::vector<Delivery>> PendingDeliveries() = 0;
  // The message's deliveries still due that are this node's to dispatch.
  virtual Result<std::vector<Delivery>> PendingDeliveriesOf(int64_t message_id) = 0;
  virtual Result<std::vector<Delivery>> DeliveriesForMessage(int64_t message_id) = 0;

  virtual Result<DeliveryPage> ListDeliveries(const DeliveryQuery& q) = 0;
  // Makes a finished (or waiting) delivery due now, as a fresh series of attempts, and marks it
  // re-queued so that a running server picks it up even when an admin command did this. The
  // delivery must belong to `account_id` when one is given.
  virtual Result<Delivery> RequeueDelivery(std::optional<int64_t> account_id,
                                           int64_t delivery_id) = 0;
  // Pending deliveries re-queued after `since` (ms since the epoch), with the newest mark.
  virtual Result<std::pair<std::vector<Delivery>, int64_t>> RequeuedSince(int64_t since) = 0;
  // Deletes attempts older than `cutoff`, and finished deliveries last touched before it.
  // Returns how many rows went.
  virtual Result<int64_t> PruneDeliveries(TimePoint cutoff) = 0;

  // False after a commit failure (see above), while a database server is unreachable, and while
  // the disk is full (SQLite rolled the transaction back; the store tries again every second and
  // resumes by itself once a commit succeeds).
  virtual bool healthy() const = 0;
  // How many times the connection to a database server was lost (PostgreSQL; SQLite: never).
  // Each loss may have dropped writes whose callers were told so; state kept beside the store
  // (a node's line leases and queues) is rebuilt from the store when this moves.
  virtual uint64_t ConnectionLosses() const { return 0; }
  // Blocks until every write queued before the call is committed (or failed).
  virtual void Flush() = 0;
};

}  // namespace bluegate::store
