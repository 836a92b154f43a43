// One line's driver: its queue, its carrier connection and its timers, on the line's own strand.
// It takes stored QUEUED messages, paces them by the line's limits, marks them ACCEPTED and hands
// them to the carrier, carries out the outcome policy (outcome_policy.h) on the carrier's answers,
// fails what the carrier never reports on within the resolve timeout, and turns the carrier's
// reports (status, read, health) into store writes. Inbound messages and typing go to the
// Outbound, with the line.
//
// Everything runs on the strand except the atomics and what `queue_mu_` guards, which the API
// reads from other threads (usage, reservations, pool choice). Timers come from the injected
// Timers, so tests drive a driver on a manual clock.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>

#include <atomic>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "carriers/carrier.h"
#include "core/clock.h"
#include "core/event_hub.h"
#include "core/metrics.h"
#include "core/result.h"
#include "core/timer.h"
#include "queue/line_queue.h"
#include "queue/media_check.h"
#include "store/directory.h"
#include "store/message_log.h"
#include "store/message_queries.h"

namespace bluegate::queue {

// What the carrier is given of a stored message.
carriers::OutboundMessage ToOutbound(const Message& m);

// What every line's driver shares: the process's io_context, store roles, time and reporting.
struct LineDriverEnv {
  boost::asio::io_context& io;
  store::MessageLog& log;
  store::MessageQueries& messages;
  Clock& clock;
  Timers& timers;
  Metrics& metrics;
  EventHub* events = nullptr;      // status changes and health go here too, when set
  MediaProbe media_probe;          // empty: attachments go to the carrier unchecked
  MediaShrinker media_shrinker;    // empty: an attachment over SMS's limit fails the message
  Millis reconnect_backoff{1000};  // the pause after kDisconnected
};

// Where a driver hands what is not its own to handle.
struct LineDriverHooks {
  // A message left this line's queue (the line was removed, or the message moved): it goes where
  // the store now says. Called on the strand.
  std::function<void(int64_t message_id)> forward;
  // An inbound message or a typing bubble the carrier heard on `line`. Any thread.
  std::function<void(const store::Line& line, carriers::CarrierEvent event)> heard;
};

struct LineUsage {
  NewContactWindow::Usage daily;
  NewContactWindow::Usage hourly;
  NewContactLimits limits;
};

struct LineState {
  carriers::LineHealth health = carriers::LineHealth::kOnline;
  TimePoint changed_at{};  // the process's start until the carrier reports a change
  std::string reason;
};

class LineDriver final : public std::enable_shared_from_this<LineDriver>,
                         public carriers::CarrierSink {
 public:
  LineDriver(const LineDriverEnv& env, store::Line line, const LineLimits& limits,
             LineDriverHooks hooks);
  LineDriver(const LineDriver&) = delete;
  LineDriver& operator=(const LineDriver&) = delete;

  // --- Set up (before the driver is shared). ---
  // Without one the driver is a standby: it answers for the line's limits and usage and sends
  // nothing (scale-out: another node drives the line).
  void SetCarrier(std::unique_ptr<carriers::Carrier> carrier) { carrier_ = std::move(carrier); }
  // The new contacts the line started before this process did.
  void SeedNewContacts(const std::vector<TimePoint>& starts) { queue_.SeedNewContacts(starts); }
  // The SMS the line handed its carrier today before this process started (sms_per_day).
  void SeedSmsToday(int64_t sent) { sms_sent_ = sent; }

  // --- Queue places (any thread). ---
  // Claims a place for a message about to be stored; false when the queue is full.
  bool TryReserve();
  // Gives back a place whose message was not stored.
  void Unreserve() { depth_.fetch_sub(1, std::memory_order_relaxed); }
  // Takes a place for a message that is already stored (recovered, forwarded, swept).
  void AddRecovered() { depth_.fetch_add(1, std::memory_order_relaxed); }
  // Queues a stored message whose place is taken. A message already waiting here waits once.
  // Past the line's window it stays in the store only, and is paged in when its turn nears.
  void Enqueue(QueuedMessage m);
  // The line's messages the store holds QUEUED (a restart, or this node taking the line over):
  // they take their places and are paged in from the oldest.
  void Resume(store::QueuedCount queued);
  // Reads the line's QUEUED messages again from the oldest as the window empties, for messages
  // it was not told of (moved here from a removed line, or announced by a node that died).
  // Those already waiting here wait once.
  void Rescan();

  // --- Carrier work (any thread; `done` may run on any thread). ---
  // Asks the carrier what became of a message last seen at `seen` (ACCEPTED or SENT) and acts on
  // the answer as DecideReconcile says (a resubmit is counted).
  void Reconcile(carriers::OutboundMessage msg, Status seen);
  // The service that reaches `address`, from a cache kept for the line's lookup_ttl (answers that
  // could not tell are not kept).
  void Lookup(const std::string& address, std::function<void(carriers::LookupResult)> done);
  // A typing bubble, read receipt or reaction.
  void Send(carriers::Signal signal, std::function<void(Result<Ok>)> done);
  // An event the carrier's server posted (Carrier::Push); `done` runs on the strand.
  void Push(std::string token, std::string body, std::function<void(Result<Ok>)> done);
  void OnCarrierEvent(carriers::CarrierEvent e) override;

  // --- Changes to the line (any thread). ---
  void UpdateLimits(LineLimits limits);
  // The carrier settings changed: the new carrier takes over; the old one hands back what it held.
  void ReplaceCarrier(std::unique_ptr<carriers::Carrier> carrier);
  // The line was removed: no more sends; waiting messages go to `forward`; messages in flight
  // still get their reports and the resolve timeout.
  void Retire();
  // This node no longer drives the line: nothing more is submitted, waiting messages stay QUEUED
  // in the store, the carrier closes. Ready once done.
  std::future<void> Stop();

  // --- Reads (any thread). ---
  const store::Line& line() const { return line_; }
  LineLimits limits() const;
  LineUsage Usage(TimePoint now) const;
  LineState State() const;
  // Slots left now, less the first messages already waiting for one (INT_MAX: unlimited).
  int NewContactsRemaining(TimePoint now) const;
  // QUEUED messages, reservations included.
  int64_t depth() const { return depth_.load(std::memory_order_relaxed); }
  // Messages waiting in memory (the window, and what goes again); the rest wait in the store.
  size_t held() const;
  // When the next waiting message is due to leave the queue (ms since the epoch; 0: unknown).
  int64_t next_out_ms() const { return next_out_ms_.load(std::memory_order_relaxed); }
  // What a carrier-less driver answers.
  Error NotDrivenHere() const;

 private:
  template <typename Fn>
  void OnStrand(Fn fn);
  void HandleEvent(carriers::CarrierEvent e);
  // One of the line's send_window places, held by a message from the queue until the carrier
  // has answered its submit (or it stopped on the way): copies share it, the last frees it.
  class SendSlot;
  using Slot = std::shared_ptr<SendSlot>;
  Slot TakeSlot();
  void FreeSlot();
  void Pump();
  void StartSend(QueuedMessage m, Slot slot);
  void Submit(carriers::OutboundMessage msg, Slot slot);
  void CheckMedia(carriers::OutboundMessage msg, Slot slot);
  void Shrink(carriers::OutboundMessage msg, MediaSize size, bool fell_back, Slot slot);
  void OnShrunk(carriers::OutboundMessage msg, uint64_t bytes, bool fell_back,
                Result<std::string> url, Slot slot);
  void SubmitNow(carriers::OutboundMessage msg, Slot slot);
  void OnSubmitted(carriers::OutboundMessage msg, carriers::SubmitResult r);
  void OnReconciled(carriers::OutboundMessage msg, Status seen,
                    std::optional<carriers::ReconcileResult> r);
  void Requeue(carriers::OutboundMessage msg, std::optional<Millis> pause);
  void OnHealth(carriers::CarrierEvent e);
  void Report(int64_t message_id, Status to, std::optional<MessageError> error,
              std::optional<Service> service, std::optional<bool> was_downgraded,
              std::string source, std::optional<TimePoint> at = std::nullopt, bool receipt = false);
  void PublishUpdate(int64_t message_id, Status status);
  void ArmResolveTimer();
  void SweepUnresolved();
  // Empties the queue (the line is going away): its messages, oldest first.
  std::deque<QueuedMessage> TakeWaiting();
  // Queues a stored message on the strand: into the window, or left to the store behind it.
  void Admit(QueuedMessage m);
  // Puts a message into the window, counting what the carrier sends it as.
  void Hold(QueuedMessage m);
  // Fills the window of each kind from the store when it is half empty and more wait there.
  void PageIn();
  void PageIn(bool first);

  boost::asio::strand<boost::asio::io_context::executor_type> strand_;
  store::MessageLog& store_;
  store::MessageQueries& messages_;
  Clock& clock_;
  Metrics& metrics_;
  EventHub* events_;
  MediaProbe media_probe_;
  MediaShrinker media_shrinker_;
  Millis reconnect_backoff_;
  store::Line line_;
  LineDriverHooks hooks_;
  mutable std::mutex queue_mu_;  // written on the strand; read from elsewhere
  LineLimits limits_;            // guarded by queue_mu_
  LineQueue queue_;              // guarded by queue_mu_
  LineState state_;              // guarded by queue_mu_
  std::unique_ptr<carriers::Carrier> carrier_;
  std::unique_ptr<Timer> pump_timer_;
  std::unique_ptr<Timer> resolve_timer_;
  bool resolve_armed_ = false;
  std::map<int64_t, TimePoint> awaiting_report_;  // accepted by the carrier, no report yet
  std::unordered_set<int64_t> waiting_ids_;       // QUEUED messages in queue_ (strand)
  // The QUEUED messages of one kind (to known contacts, first messages) that wait in the store
  // beyond the window (strand). Every QUEUED message of the kind with an id up to `cursor` has
  // been in the window, or its Enqueue puts it there.
  struct Backlog {
    int64_t cursor = 0;
    bool paged = false;  // some may wait in the store only: page from `cursor`
    int64_t count = 0;   // how many: exact once paging reaches the end of the store
  };
  Backlog backlog_[2];             // [0]: to known contacts, [1]: first messages
  size_t window_;                  // per kind (LineLimits::queue_window)
  size_t send_window_;             // LineLimits::send_window
  size_t sending_ = 0;             // slots taken (strand)
  std::atomic<int64_t> depth_{0};  // QUEUED messages, reservations included
  std::atomic<int64_t> capacity_;
  std::atomic<int64_t> next_out_ms_{0};
  std::atomic<int64_t> waiting_new_{0};  // first messages waiting for a new-contact slot
  mutable std::mutex lookup_mu_;
  Millis lookup_ttl_;                                                       // guarded by lookup_mu_
  std::unordered_map<std::string, std::pair<Service, TimePoint>> lookups_;  // → (service, expiry)
  bool retired_ = false;
  // The daily SMS allowance (strand): SMS handed to the carrier since sms_day_.
  TimePoint sms_day_{};
  int64_t sms_sent_ = 0;
  std::unordered_set<int64_t> sms_counted_;  // today's, so that a re-send counts once
  // Whether message `id` may go as SMS now under sms_per_day (counting it once), or the error it
  // meets.
  std::optional<MessageError> TakeSms(int64_t id);
};

// Runs `fn(self)` on the strand, keeping the driver alive until it has.
template <typename Fn>
void LineDriver::OnStrand(Fn fn) {
  boost::asio::post(strand_,
                    [self = shared_from_this(), fn = std::move(fn)]() mutable { fn(*self); });
}

}  // namespace bluegate::queue
