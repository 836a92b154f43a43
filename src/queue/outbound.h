// The outbound engine: one LineDriver per line, each owning its LineQueue and carrier connection
// on its own strand (no global lock on the send path). It moves stored messages through
// ACCEPTED → SENT → DELIVERED by way of the store, applies the retry policy to carrier outcomes,
// enforces the resolve timeout, and turns carrier reports (status, read, inbound) into store
// writes.
#pragma once

#include <boost/asio/io_context.hpp>

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <shared_mutex>
#include <string>
#include <unordered_map>

#include "carriers/carrier.h"
#include "core/clock.h"
#include "core/event_hub.h"
#include "core/ids.h"
#include "core/metrics.h"
#include "core/result.h"
#include "core/timer.h"
#include "queue/line_driver.h"
#include "queue/line_queue.h"
#include "queue/outcome_policy.h"
#include "store/store.h"

namespace bluegate::queue {

struct QueueSettings {
  LineLimits defaults;
  std::map<std::string, LineLimits> per_line;  // by E.164 number
  Millis reconnect_backoff{1000};              // after kDisconnected
  MediaProbe media_probe;                      // empty: attachments go to the carrier unchecked
  MediaShrinker media_shrinker;                // empty: what is over SMS's limit fails
  EventHub* events = nullptr;  // where status changes, inbound messages, typing and health go
};

// The limits of `line`: the configuration's defaults, then its override in the configuration, then
// the line's own settings (`bluegate lines set`).
LineLimits EffectiveLimits(const QueueSettings& settings, const store::Line& line);

// The message an inbound carrier report stores (status RECEIVED is set by the store).
Message InboundMessage(const store::Line& line, const carriers::CarrierEvent& event,
                       IdGenerator& ids);

// Stores an inbound message `m` on `line` (whose limits say whether it is `shared`): on a
// dedicated line for its account, on a shared one for each account that registered the sender
// (store/message_log.h). `done` gets what was stored, on the store's writer thread. The Outbound
// does this for carriers; the simulator's admin command, with no Outbound, calls it directly.
void StoreInbound(store::MessageLog& log, const store::Line& line, bool shared, Message m,
                  std::function<void(Result<std::vector<Message>>)> done);

// Builds a line's carrier, which reports to `sink` (the line's own driver); app/wiring.cc provides
// it, so this layer knows no implementation.
using CarrierFactory =
    std::function<std::unique_ptr<carriers::Carrier>(const store::Line&, carriers::CarrierSink&)>;

// The store roles the outbound engine uses; a whole store converts to it.
struct OutboundStore {
  OutboundStore(store::Store& s) : log(s), messages(s), directory(s), contacts(s) {}  // NOLINT
  OutboundStore(store::MessageLog& l, store::MessageQueries& m, store::Directory& d,
                store::Contacts& c)
      : log(l), messages(m), directory(d), contacts(c) {}
  store::MessageLog& log;
  store::MessageQueries& messages;
  store::Directory& directory;
  store::Contacts& contacts;
};

class Outbound final {
 public:
  Outbound(boost::asio::io_context& io, OutboundStore store, Clock& clock, Timers& timers,
           IdGenerator& ids, Metrics& metrics, CarrierFactory factory, QueueSettings settings);
  ~Outbound();
  Outbound(const Outbound&) = delete;
  Outbound& operator=(const Outbound&) = delete;

  // The line with this number, through a cache in front of the store: a line added by an admin
  // command while the server runs is found on the first miss. Thread-safe.
  std::optional<store::Line> FindLine(const std::string& number);
  // The line with this number if it serves `account_id` (its own, or shared with it). When the
  // cached line does not, the line changes are read first (Refresh), so that a line attached to
  // the account by an admin command a moment ago serves it at once. Thread-safe.
  std::optional<store::Line> FindLineServing(const std::string& number, int64_t account_id);

  // The line's limits now (see EffectiveLimits). Thread-safe.
  LineLimits LimitsFor(const store::Line& line) const;
  // The configuration's limits changed (SIGHUP): every line takes them at once, its own settings
  // (`bluegate lines set`) still winning. Thread-safe.
  void ReplaceLimits(LineLimits defaults, std::map<std::string, LineLimits> per_line);

  // --- The send path (outbound_send.cc). Thread-safe. ---
  // The line a 1:1 send from `account_id` to `contact` goes from (SPEC.md §6, route mapping):
  // `named` (from_number) when given, which must agree with the contact's binding as known here
  // (the store checks it again as it accepts); else the contact's bound line; else the account's
  // line with the most new-contact capacity left now, then the shortest queue. kInvalidArgument
  // when that is no line of the account.
  Result<store::Line> LineFor(int64_t account_id, const std::string& contact,
                              const std::string& named);
  // Sends a new outbound message `m` (QUEUED, on `line`): claims a place in the line's queue
  // (kThrottled, 4001, with retry_after when the next waiting message is due to leave, when the
  // queue is full), stores it under the line's policy (`verification`: it asks the contact to
  // verify, so a shared line may send it), then queues it (with leases, a message for another
  // node's line is announced to that node), or gives the place back when the message was not
  // stored or was DECLINED. `done` gets the stored message or why not, on the store's writer
  // thread.
  void Submit(const store::Line& line, Message m, bool verification,
              std::function<void(Result<Message>)> done);
  // With leases: which node holds each line's lease, as last read (the lease keeper sets it).
  // `addresses`: each live node's API address.
  void SetHolders(std::map<std::string, std::string> holders,
                  std::map<std::string, std::string> addresses);
  // With leases: the API address of the node holding the line's lease, when another node holds
  // it. Thread-safe.
  std::optional<std::string> HolderAddress(const std::string& line);
  // With leases: the node holding the line's lease ("" between holders); without: nullopt.
  std::optional<std::string> HolderOf(const std::string& line);

  // Picks up what the store says was in flight (ACCEPTED, or SENT over iMessage) when the process
  // last stopped, and how many messages wait QUEUED on each line (paged in as the line sends).
  // Returns how many messages it picked up. Call once, before serving.
  Result<size_t> Recover();

  // Starts every stored line's carrier (connections to SMSCs and BlueBubbles servers come up
  // before the first send, so that phones' messages are heard). Call once, after Recover().
  void StartLines();

  // --- Scale-out (PostgreSQL): line leases. ---
  // From now on this node drives only the lines it was given by Adopt(); a message accepted here
  // for any other line is handed to `remote(line, message_id)`, which tells the node that drives
  // it. Call before Recover().
  using RemoteFn = std::function<void(const std::string& line, int64_t message_id)>;
  void UseLeases(RemoteFn remote);
  // Starts driving `line` (this node just took its lease): the carrier connects and the messages
  // the store holds unfinished for the line resume. False (and not driven) when the store could
  // not say what they are. Thread-safe.
  bool Adopt(const std::string& line);
  // Stops driving `line`, returning once its carrier is closed: nothing more is submitted from
  // this node. Waiting messages stay QUEUED in the store for the line's next holder. Thread-safe.
  void Release(const std::string& line);
  // Has the line read its QUEUED messages in the store again from the oldest, as its window
  // empties: one whose announcement was lost with the node that accepted it is found. Those
  // already waiting here are not queued twice. Thread-safe.
  void Sweep(const std::string& line);
  // The lines this node drives (every line without leases).
  std::vector<std::string> Driven();
  bool Drives(const std::string& line);
  // A message another node accepted for `line` (LISTEN/NOTIFY): queued here if this node drives
  // the line; otherwise the line's next holder finds it in the store.
  void Deliver(int64_t message_id, const std::string& line);

  // Applies the line changes any process made since the last call (`bluegate lines add|set|
  // remove`): new settings reach the line's strand; a removed line stops taking messages, and
  // its waiting ones follow the store (moved to another line, or already failed). Thread-safe.
  void Refresh();
  // Calls Refresh() every `every` on the io_context until the Outbound goes.
  void WatchLineChanges(Millis every);

  using Usage = LineUsage;
  // The line's new-contact usage now. Thread-safe.
  Usage NewContactUsage(const store::Line& line);
  // How many more new contacts the line may start now (INT_MAX: unlimited). Thread-safe.
  int NewContactsRemaining(const store::Line& line);
  using LineState = queue::LineState;
  // The line's health as its carrier last reported it. Thread-safe.
  LineState StateOf(const store::Line& line);

  // Messages waiting in QUEUED on the line, reservations included.
  size_t QueueDepth(const std::string& line);
  // Prometheus gauges: totals, and each line's queue depth (by number) when `per_line`.
  void RenderGauges(std::string& out, bool per_line);

  // Which service reaches `address` from the line, through its carrier, cached for the line's
  // lookup_ttl. `done` may run on any thread.
  void Lookup(const store::Line& line, std::string address,
              std::function<void(carriers::LookupResult)> done);
  // A typing bubble, read receipt or reaction through the line's carrier. `done` may run on any
  // thread.
  void SendSignal(const store::Line& line, carriers::Signal signal,
                  std::function<void(Result<Ok>)> done);

  // Stores an inbound message on `line` as its carrier would report it (`event.from`,
  // `content`, `media_url`, `service`, `at`): binds the route, applies STOP/START, fires the
  // `receive` webhooks. On a shared line it reaches each account that registered the sender (a
  // message each), or none (kept for the operator: `bluegate inbound unrouted`). Carrier reports
  // come here; so does the simulator's "play the recipient" (`/api/v2/sim/inbound`). `done` (may
  // be empty) gets the stored messages, on the store's writer thread.
  void RecordInbound(const store::Line& line, carriers::CarrierEvent event,
                     std::function<void(Result<std::vector<Message>>)> done);

  // An event the line's carrier server posted to the gateway (see Carrier::Push). `done` runs
  // on the line's strand; kNotFound when there is no such line.
  void Push(const std::string& line, std::string token, std::string body,
            std::function<void(Result<Ok>)> done);

 private:
  Result<std::string> PoolLine(int64_t account_id);
  Result<Ok> Reserve(const store::Line& line);
  void CancelReservation(const std::string& line);
  // Hands a stored QUEUED message to its line, consuming its reservation.
  void Enqueue(const Message& m);
  std::shared_ptr<LineDriver> Driver(const store::Line& line);
  std::shared_ptr<LineDriver> ExistingDriver(const std::string& number);
  // A contact's typing bubble: the account's typing_indicator webhooks.
  void RecordTyping(const store::Line& line, const carriers::CarrierEvent& event);
  // An inbound message or typing bubble a line's carrier heard.
  void Heard(const store::Line& line, carriers::CarrierEvent event);
  // A message left a removed line's queue: it goes where the store now says.
  void Forward(int64_t message_id);
  // Fails a message of a line removed while the server was stopped (Recover).
  void FailOnRemovedLine(int64_t message_id, const std::string& line);
  void FailQueuedOnRemovedLine(const std::string& line);
  void ArmWatch();
  bool Leased() {
    std::shared_lock lock(mu_);
    return leased_;
  }

  boost::asio::io_context& io_;
  OutboundStore store_;
  Clock& clock_;
  Timers& timers_;
  IdGenerator& ids_;
  Metrics& metrics_;
  CarrierFactory factory_;
  QueueSettings settings_;  // defaults and per_line under limits_mu_ (ReplaceLimits)
  mutable std::mutex limits_mu_;
  TimePoint started_at_;

  mutable std::shared_mutex mu_;  // read on every send; written when lines come and go
  std::unordered_map<std::string, store::Line> lines_;
  std::unordered_map<std::string, std::shared_ptr<LineDriver>> drivers_;
  // Removed lines whose carriers may still report on messages in flight.
  std::unordered_map<std::string, std::shared_ptr<LineDriver>> retired_;
  // With leases: lines driven here (the others get carrier-less standby drivers, for limits and
  // usage, in standby_).
  bool leased_ = false;
  std::set<std::string> owned_;
  std::unordered_map<std::string, std::shared_ptr<LineDriver>> standby_;
  std::vector<std::shared_ptr<LineDriver>> stopped_;  // released lines' drivers
  RemoteFn remote_;
  std::map<std::string, std::string> holders_;    // line → node holding its lease
  std::map<std::string, std::string> addresses_;  // node → its API address
  int64_t line_change_seq_ = -1;                  // -1: not read yet
  std::mutex refresh_mu_;
  std::unique_ptr<Timer> watch_timer_;
  Millis watch_every_{1000};
};

}  // namespace bluegate::queue
