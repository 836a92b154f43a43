// The MessageLog role of the store: accepting, moving and recording messages.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/message.h"
#include "core/result.h"
#include "store/delivery_log.h"

namespace bluegate::store {

// How a send is checked against its line's policy when it is stored.
struct AcceptPolicy {
  Millis new_contact_after{std::chrono::hours(24 * 30)};  // the line's "new contact" silence
  bool verified_only = false;  // a shared line: only verified contacts (else DECLINED)
  bool verification = false;   // the message asks the contact to verify: exempt from the above
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
  bool applied = false;                  // false: a late or duplicate report, recorded and ignored
  Status status = Status::kQueued;       // the message's status afterwards
  std::string line;                      // the message's line afterwards
  Service service = Service::kIMessage;  // the message's service afterwards (when applied)
  TimePoint created_at{};                // when the message was accepted
};

// What a store's writer has done since it opened: transactions committed, the writes they
// carried, round trips to a database server (PostgreSQL; 0 for SQLite), the time it spent
// running batches, and the batches it ran again write by write because one write failed.
struct WriteStats {
  uint64_t commits = 0;
  uint64_t writes = 0;
  uint64_t round_trips = 0;
  uint64_t busy_us = 0;
  uint64_t isolated_batches = 0;
};

// The message log: every write that carries a message, and what watches the commits.
//
// Writes are asynchronous and group-committed: many callers' writes share one transaction and one
// fsync. Their `done` callbacks run on the store's writer thread after the commit is on disk (or
// failed); they must be quick and must not block on the store. A commit failure is sticky: once
// the store cannot tell whether a commit landed, every later write fails with kStorageFailure
// until restart (fail closed: never acknowledge what may be lost).
class MessageLog {
 public:
  virtual ~MessageLog() = default;

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

  // The message's attachment was replaced by a smaller copy at `media_url` (a fallback to SMS
  // compressed it): the message's media_url becomes it and the app's URL is kept as
  // original_media_url (the first one, if this happens again). Changes no status and tells no
  // webhook; the status changes that follow carry both.
  virtual void ReplaceMedia(int64_t message_id, std::string media_url,
                            std::function<void(Result<Ok>)> done) = 0;

  // Stores an inbound message (status RECEIVED) with a delivery to each of the account's `receive`
  // webhooks that takes this line. STOP-family keywords opt the contact out of the line's
  // account, START-family opt it back in (SPEC.md §6).
  virtual void RecordInbound(Message m, std::function<void(Result<Message>)> done) = 0;

  // A contact's message to a shared (free-plan) line, which serves `accounts`: stored (as
  // RecordInbound does) once for each account that registered the sender as a contact, and the
  // first such message verifies the contact for that account. A message no account registered
  // the sender for reaches nobody (no webhook, history or event): it is kept for the operator
  // (MessageQueries::ListUnrouted) and the result is empty.
  virtual void RecordSharedInbound(Message m, std::vector<int64_t> accounts,
                                   std::function<void(Result<std::vector<Message>>)> done) = 0;

  // An account event that is not a message (line_assigned, contact_created, line_blocked,
  // typing_indicator): a delivery of `payload` (a JSON object) to each of the account's webhooks
  // of `type` (that take `line`, when one is given). Deliveries made by another process (an
  // admin command) reach a running server through its re-queue poll.
  virtual void RecordEvent(int64_t account_id, std::string type, std::string payload,
                           std::optional<std::string> line,
                           std::function<void(Result<Ok>)> done) = 0;

  // Deletes finished messages last changed before `cutoff` whose webhook deliveries are all done
  // (with their ignored reports and their place in the conversation), oldest first, in slices
  // that hold the writer briefly (store.message_retention). Returns how many went.
  virtual Result<int64_t> PruneMessages(TimePoint cutoff) = 0;

  // Called on the writer thread after each commit with the deliveries that commit created, in
  // creation order. Set once, before the first write.
  virtual void SetDeliveryObserver(std::function<void(std::vector<Delivery>)> observer) = 0;

  // Account events the store alone sees happen (today: "contact.created", data the
  // contact_created payload), told after their commit on the writer thread, to accounts for
  // which `wants` (called on the writer thread; keep it cheap) says someone listens. Set once,
  // before the first write. A store with no delivery observer (an admin command's process) writes
  // these and the "message.received" of its inbound messages in their own transaction instead,
  // for a running server to publish (MessageQueries::AnnouncedEventsSince).
  virtual void SetEventObserver(std::function<bool(int64_t account_id)> wants,
                                std::function<void(int64_t account_id, const std::string& type,
                                                   const std::string& data, TimePoint at)>
                                    publish) = 0;

  // False after a commit failure (see above), while a database server is unreachable, and while
  // the disk is full (SQLite rolled the transaction back; the store tries again every second and
  // resumes by itself once a commit succeeds).
  virtual bool healthy() const = 0;

  // How many times the connection to a database server was lost (PostgreSQL; SQLite: never).
  // Each loss may have dropped writes whose callers were told so; state kept beside the store
  // (a node's line leases and queues) is rebuilt from the store when this moves.
  virtual uint64_t ConnectionLosses() const { return 0; }
  // What the writer has done since the store opened (/metrics).
  virtual WriteStats Stats() const { return {}; }
  // Blocks until every write queued before the call is committed (or failed).
  virtual void Flush() = 0;
};

}  // namespace bluegate::store
