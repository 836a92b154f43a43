#include "queue/outbound.h"

#include "core/account_events.h"
#include "core/message_json.h"

#include <algorithm>
#include <atomic>
#include <future>
#include <limits>
#include <set>
#include <shared_mutex>
#include <tuple>
#include <unordered_set>

#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

namespace bluegate::queue {

namespace asio = boost::asio;

// One line: its queue, its carrier, its timers. Touched only on `strand_`, except the atomics
// and what `queue_mu_` guards, which other threads read (usage, pool choice).
class LineDriver final : public std::enable_shared_from_this<LineDriver>,
                         public carriers::CarrierSink {
 public:
  LineDriver(asio::io_context& io, store::Store& store, Clock& clock, Metrics& metrics,
             store::Line line, const LineLimits& limits, Millis reconnect_backoff,
             std::function<void(int64_t)> forward,
             std::function<void(carriers::CarrierEvent)> inbound, MediaProbe media_probe,
             EventHub* events)
      : strand_(asio::make_strand(io)),
        store_(store),
        clock_(clock),
        metrics_(metrics),
        line_(std::move(line)),
        limits_(limits),
        reconnect_backoff_(reconnect_backoff),
        forward_(std::move(forward)),
        inbound_(std::move(inbound)),
        media_probe_(std::move(media_probe)),
        events_(events),
        queue_(limits),
        pump_timer_(strand_),
        resolve_timer_(strand_),
        state_{carriers::LineHealth::kOnline, clock.Now(), ""},
        capacity_(static_cast<int64_t>(limits.queue_capacity)),
        lookup_ttl_(limits.lookup_ttl) {}

  void SetCarrier(std::unique_ptr<carriers::Carrier> carrier) { carrier_ = std::move(carrier); }
  void Push(std::string token, std::string body, std::function<void(Result<Ok>)> done) {
    asio::post(strand_, [self = shared_from_this(), token = std::move(token),
                         body = std::move(body), done = std::move(done)]() mutable {
      if (!self->carrier_) return done(self->NotDrivenHere());
      done(self->carrier_->Push(token, std::move(body)));
    });
  }

  // This node no longer drives the line (scale-out: its lease went to another node). Nothing more
  // is submitted from here; waiting messages stay QUEUED in the store for the next holder, and
  // the carrier connection closes. Ready once done, on the strand.
  std::future<void> Stop() {
    auto done = std::make_shared<std::promise<void>>();
    auto ready = done->get_future();
    asio::post(strand_, [self = shared_from_this(), done] {
      self->retired_ = true;
      self->pump_timer_.cancel();
      self->resolve_timer_.cancel();
      {
        std::lock_guard lock(self->queue_mu_);
        self->queue_.TakeAll();
      }
      self->depth_.store(0, std::memory_order_relaxed);
      self->waiting_new_.store(0, std::memory_order_relaxed);
      self->waiting_ids_.clear();
      self->awaiting_report_.clear();
      self->carrier_.reset();
      done->set_value();
    });
    return ready;
  }

  // What a carrier-less driver (a line another node drives, or one stopped here) answers.
  Error NotDrivenHere() const {
    return Error{ErrorKind::kDisconnected,
                 "line " + line_.number + " is driven by another node of this deployment",
                 ErrorCode::kServerRateExceeded, Millis(1000)};
  }
  // The line's carrier settings changed: the new carrier takes over on the strand. The old one
  // hands back what it held (waiting messages return to the queue; messages whose fate it cannot
  // tell are reconciled through the new one).
  void ReplaceCarrier(std::unique_ptr<carriers::Carrier> carrier) {
    asio::post(strand_, [self = shared_from_this(), carrier = std::move(carrier)]() mutable {
      auto old = std::move(self->carrier_);
      self->carrier_ = std::move(carrier);
      {
        std::lock_guard lock(self->lookup_mu_);
        self->lookups_.clear();
      }
      old.reset();
    });
  }
  // Before first use: the new contacts the line started before this process did.
  void SeedNewContacts(const std::vector<TimePoint>& starts) { queue_.SeedNewContacts(starts); }
  const store::Line& line() const { return line_; }
  LineLimits limits() const {
    std::lock_guard lock(queue_mu_);
    return limits_;
  }
  int64_t depth() const { return depth_.load(std::memory_order_relaxed); }
  // When the next waiting message is due to leave the queue (ms since the epoch; 0: unknown).
  int64_t next_out_ms() const { return next_out_ms_.load(std::memory_order_relaxed); }

  bool TryReserve() {
    int64_t d = depth_.load(std::memory_order_relaxed);
    do {
      if (d >= capacity_.load(std::memory_order_relaxed)) return false;
    } while (!depth_.compare_exchange_weak(d, d + 1, std::memory_order_relaxed));
    return true;
  }

  Outbound::Usage Usage(TimePoint now) const {
    std::lock_guard lock(queue_mu_);
    return Outbound::Usage{queue_.new_contacts().Daily(now), queue_.new_contacts().Hourly(now),
                           limits_.new_contacts};
  }
  // Slots left now, less the first messages already waiting for one.
  Outbound::LineState State() const {
    std::lock_guard lock(queue_mu_);
    return state_;
  }

  int NewContactsRemaining(TimePoint now) const {
    int free = 0;
    {
      std::lock_guard lock(queue_mu_);
      free = queue_.new_contacts().Remaining(now);
    }
    if (free == std::numeric_limits<int>::max()) return free;
    return free - static_cast<int>(waiting_new_.load(std::memory_order_relaxed));
  }

  void UpdateLimits(LineLimits limits) {
    asio::post(strand_, [self = shared_from_this(), limits] {
      {
        std::lock_guard lock(self->queue_mu_);
        self->limits_ = limits;
        self->queue_.SetLimits(limits);
      }
      self->capacity_.store(static_cast<int64_t>(limits.queue_capacity), std::memory_order_relaxed);
      {
        std::lock_guard lock(self->lookup_mu_);
        self->lookup_ttl_ = limits.lookup_ttl;
      }
      self->pump_timer_.cancel();
      self->Pump();
    });
  }

  // The line was removed: no more sends from it. Its waiting messages go back to the Outbound,
  // which hands them to wherever the store now says they belong; messages in flight still get
  // their carrier's reports and the resolve timeout.
  void Retire() {
    asio::post(strand_, [self = shared_from_this()] {
      self->retired_ = true;
      self->pump_timer_.cancel();
      std::deque<QueuedMessage> waiting;
      {
        std::lock_guard lock(self->queue_mu_);
        waiting = self->queue_.TakeAll();
      }
      self->depth_.store(0, std::memory_order_relaxed);
      self->waiting_new_.store(0, std::memory_order_relaxed);
      self->waiting_ids_.clear();
      for (auto& m : waiting) self->forward_(m.message.message_id);
    });
  }
  void Unreserve() { depth_.fetch_sub(1, std::memory_order_relaxed); }
  void AddRecovered() { depth_.fetch_add(1, std::memory_order_relaxed); }

  void Enqueue(QueuedMessage m) {
    if (m.new_contact && !m.already_accepted) waiting_new_.fetch_add(1, std::memory_order_relaxed);
    asio::post(strand_, [self = shared_from_this(), m = std::move(m)]() mutable {
      if (self->retired_) {
        self->depth_.fetch_sub(1, std::memory_order_relaxed);
        if (m.new_contact && !m.already_accepted) {
          self->waiting_new_.fetch_sub(1, std::memory_order_relaxed);
        }
        self->forward_(m.message.message_id);
        return;
      }
      // A message already waiting here (announced by another node and also read from the store,
      // or swept again) waits once.
      if (!m.already_accepted && !self->waiting_ids_.insert(m.message.message_id).second) {
        self->depth_.fetch_sub(1, std::memory_order_relaxed);
        if (m.new_contact) self->waiting_new_.fetch_sub(1, std::memory_order_relaxed);
        return;
      }
      if (self->carrier_) m.segments = std::max(1, self->carrier_->Segments(m.message));
      {
        std::lock_guard lock(self->queue_mu_);
        self->queue_.Push(std::move(m));
      }
      self->Pump();
    });
  }

  // The line's carrier reports here directly: no lookup of the line per event.
  void OnCarrierEvent(carriers::CarrierEvent e) override {
    if (e.kind == carriers::CarrierEvent::Kind::kInbound ||
        e.kind == carriers::CarrierEvent::Kind::kTyping) {
      return inbound_(std::move(e));
    }
    OnEvent(std::move(e));
  }

  void OnEvent(carriers::CarrierEvent e) {
    asio::post(strand_, [self = shared_from_this(), e = std::move(e)]() mutable {
      self->HandleEvent(std::move(e));
    });
  }

 private:
  // Sends every message the limits allow now, and arms a timer for the next one.
  void Pump() {
    if (retired_) return;
    for (;;) {
      std::variant<QueuedMessage, TimePoint, LineQueue::Empty> next;
      {
        std::lock_guard lock(queue_mu_);
        next = queue_.Next(clock_.Now());
      }
      if (auto* m = std::get_if<QueuedMessage>(&next)) {
        depth_.fetch_sub(1, std::memory_order_relaxed);
        if (m->new_contact && !m->already_accepted) {
          waiting_new_.fetch_sub(1, std::memory_order_relaxed);
        }
        next_out_ms_.store(0, std::memory_order_relaxed);
        waiting_ids_.erase(m->message.message_id);
        StartSend(std::move(*m));
      } else if (auto* at = std::get_if<TimePoint>(&next)) {
        next_out_ms_.store(ToUnixMillis(*at), std::memory_order_relaxed);
        const auto wait =
            std::max(Millis(1), std::chrono::duration_cast<Millis>(*at - clock_.Now()));
        pump_timer_.expires_after(wait);
        pump_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
          if (!ec) self->Pump();
        });
        return;
      } else {
        return;
      }
    }
  }

  void StartSend(QueuedMessage m) {
    if (m.already_accepted) {
      Submit(std::move(m.message));
      return;
    }
    store::TransitionRequest r;
    r.message_id = m.message.message_id;
    r.to = Status::kAccepted;
    r.at = clock_.Now();
    r.source = "queue";
    r.expect_line = line_.number;
    auto self = shared_from_this();
    store_.Transition(std::move(r), [self, msg = std::move(m.message)](
                                        Result<store::TransitionOutcome> out) mutable {
      asio::post(self->strand_, [self, msg = std::move(msg), out = std::move(out)]() mutable {
        if (!out.ok()) {
          // The store is failing: the message stays QUEUED on disk and resumes after a restart.
          spdlog::error("line {}: cannot mark {} ACCEPTED: {}", self->line_.number, msg.handle,
                        out.error().message);
          return;
        }
        if (!out->applied) {
          // Moved to another line (this one is being removed): it goes there. Otherwise it is
          // already final (failed with the line's removal, or elsewhere).
          if (out->status == Status::kQueued && out->line != self->line_.number) {
            self->forward_(msg.message_id);
          }
          return;
        }
        self->metrics_.CountStatus(Status::kAccepted);
        self->PublishUpdate(msg.message_id, Status::kAccepted);
        self->Submit(std::move(msg));
      });
    });
  }

  // SMS fallback (SPEC §6): the lookup decides the service before the carrier gets the message;
  // SMS carries no send_style. A lookup that cannot tell leaves the carrier to decide.
  void Submit(carriers::OutboundMessage msg) {
    if (!carrier_) return;  // stopped: the line's next holder takes the message over
    if (msg.service) return CheckMedia(std::move(msg));
    auto self = shared_from_this();
    const std::string to = msg.to;
    Lookup(to, [self, msg = std::move(msg)](carriers::LookupResult r) mutable {
      asio::post(self->strand_, [self, msg = std::move(msg), r = std::move(r)]() mutable {
        msg.service = r.service.value_or(Service::kIMessage);
        if (msg.service == Service::kSms) msg.send_style.clear();
        self->CheckMedia(std::move(msg));
      });
    });
  }

 public:
  // The service that reaches `address` from this line, from a cache kept `lookup_ttl` (answers
  // that could not tell are not kept). `done` may run on any thread.
  void Lookup(const std::string& address, std::function<void(carriers::LookupResult)> done) {
    const TimePoint now = clock_.Now();
    {
      std::lock_guard lock(lookup_mu_);
      if (auto it = lookups_.find(address); it != lookups_.end() && it->second.second > now) {
        return done(carriers::LookupResult{it->second.first, {}});
      }
    }
    asio::post(strand_, [self = shared_from_this(), address, done = std::move(done)]() mutable {
      if (!self->carrier_) {
        return done(carriers::LookupResult{std::nullopt, self->NotDrivenHere().message});
      }
      self->carrier_->Lookup(
          address, [self, address, done = std::move(done)](carriers::LookupResult r) mutable {
            if (r.service) {
              std::lock_guard lock(self->lookup_mu_);
              if (self->lookups_.size() >= 100'000) self->lookups_.clear();
              self->lookups_[address] = {*r.service, self->clock_.Now() + self->lookup_ttl_};
            }
            done(std::move(r));
          });
    });
  }

  // A typing bubble, read receipt or reaction, through the line's carrier.
  void Send(carriers::Signal signal, std::function<void(Result<Ok>)> done) {
    asio::post(strand_, [self = shared_from_this(), signal = std::move(signal),
                         done = std::move(done)]() mutable {
      if (!self->carrier_) return done(self->NotDrivenHere());
      self->carrier_->Send(std::move(signal), std::move(done));
    });
  }

 private:
  // An attachment must fit its service (iMessage 100 MB, SMS 5 MB): its declared size is asked
  // with a HEAD request, never downloaded. A size that cannot be told leaves it to the carrier.
  void CheckMedia(carriers::OutboundMessage msg) {
    if (msg.media_url.empty() || !media_probe_) return SubmitNow(std::move(msg));
    auto self = shared_from_this();
    const std::string url = msg.media_url;
    media_probe_(
        url, [self, msg = std::move(msg)](std::optional<uint64_t> bytes, std::string) mutable {
          asio::post(self->strand_, [self, msg = std::move(msg), bytes]() mutable {
            const bool sms = msg.service == Service::kSms;
            const uint64_t limit = sms ? kSmsMediaLimit : kIMessageMediaLimit;
            if (bytes && *bytes > limit) {
              MessageError e{ErrorCode::kFailedToSend,
                             "The attachment is " + std::to_string(*bytes) + " bytes, over the " +
                                 std::to_string(limit / (1024 * 1024)) + " MB " +
                                 (sms ? "SMS" : "iMessage") + " limit",
                             "media_too_large", std::nullopt};
              self->Report(msg.message_id, Status::kError, std::move(e), msg.service, std::nullopt,
                           "media-check");
              return;
            }
            self->SubmitNow(std::move(msg));
          });
        });
  }

  void SubmitNow(carriers::OutboundMessage msg) {
    if (!carrier_) return;
    auto self = shared_from_this();
    const int64_t id = msg.message_id;
    awaiting_report_[id] = clock_.Now() + limits_.resolve_timeout;
    ArmResolveTimer();
    auto copy = msg;
    carrier_->Submit(
        std::move(copy), [self, msg = std::move(msg)](carriers::SubmitResult r) mutable {
          asio::post(self->strand_, [self, msg = std::move(msg), r = std::move(r)]() mutable {
            self->OnSubmitted(std::move(msg), std::move(r));
          });
        });
  }

  void OnSubmitted(carriers::OutboundMessage msg, carriers::SubmitResult r) {
    using carriers::SubmitOutcome;
    if (!carrier_) return;
    switch (r.outcome) {
      case SubmitOutcome::kAccepted:
        return;
      case SubmitOutcome::kRejected: {
        awaiting_report_.erase(msg.message_id);
        MessageError e{ErrorCode::kFailedToSend, "The carrier refused the message",
                       "carrier_rejected",
                       r.detail.empty() ? std::nullopt : std::optional(r.detail)};
        Report(msg.message_id, Status::kError, std::move(e), std::nullopt, std::nullopt,
               "carrier:" + std::string(carrier_->name()));
        return;
      }
      case SubmitOutcome::kThrottled:
      case SubmitOutcome::kDisconnected: {
        awaiting_report_.erase(msg.message_id);
        const Millis wait = r.outcome == SubmitOutcome::kThrottled && r.retry_after.count() > 0
                                ? r.retry_after
                                : reconnect_backoff_;
        depth_.fetch_add(1, std::memory_order_relaxed);
        {
          std::lock_guard lock(queue_mu_);
          queue_.PushFront(QueuedMessage{std::move(msg), true});
          queue_.PauseUntil(clock_.Now() + wait);
        }
        Pump();
        return;
      }
      case SubmitOutcome::kUnknown:
        awaiting_report_.erase(msg.message_id);
        Reconcile(std::move(msg), Status::kAccepted);
        return;
    }
  }

 public:
  // Asks the carrier what became of a message last seen at `seen` (ACCEPTED or SENT) and records
  // the answer; a message the carrier cannot account for is re-submitted if it was never
  // confirmed sent (ACCEPTED), and counted.
  void Reconcile(carriers::OutboundMessage msg, Status seen) {
    asio::post(strand_, [self = shared_from_this(), msg = std::move(msg), seen]() mutable {
      if (!self->carrier_) return;
      auto copy = msg;
      self->carrier_->Reconcile(
          std::move(copy),
          [self, msg = std::move(msg), seen](std::optional<carriers::ReconcileResult> r) mutable {
            asio::post(self->strand_,
                       [self, msg = std::move(msg), seen, r = std::move(r)]() mutable {
                         self->OnReconciled(std::move(msg), seen, std::move(r));
                       });
          });
    });
  }

 private:
  void OnReconciled(carriers::OutboundMessage msg, Status seen,
                    std::optional<carriers::ReconcileResult> r) {
    if (!carrier_) return;
    const std::string source = "reconcile:" + std::string(carrier_->name());
    if (r) {
      // Keep the callbacks' story whole: DELIVERED is announced after SENT.
      if (r->status == Status::kDelivered && seen == Status::kAccepted) {
        Report(msg.message_id, Status::kSent, std::nullopt, r->service, r->was_downgraded, source);
      }
      Report(msg.message_id, r->status, std::move(r->error), r->service, r->was_downgraded, source);
      return;
    }
    if (seen != Status::kAccepted) return;  // it was sent; only its final report is missing
    metrics_.CountCarrierResubmit();
    depth_.fetch_add(1, std::memory_order_relaxed);
    {
      std::lock_guard lock(queue_mu_);
      queue_.PushFront(QueuedMessage{std::move(msg), true});
    }
    Pump();
  }

  void HandleEvent(carriers::CarrierEvent e) {
    using Kind = carriers::CarrierEvent::Kind;
    if (e.kind == Kind::kStatus) {
      awaiting_report_.erase(e.message_id);
      Report(e.message_id, e.status, std::move(e.error), e.service, e.was_downgraded,
             "carrier:" + std::string(carrier_ ? carrier_->name() : "unknown"), e.at, e.receipt);
    } else if (e.kind == Kind::kRead) {
      store_.MarkRead(e.message_id, e.at, [](Result<Message>) {});
    } else if (e.kind == Kind::kHealth) {
      OnHealth(std::move(e));
    }
  }

  // A change of health is kept for GET /api/v2/lines/state; a line that stops sending normally
  // (DEGRADED or OFFLINE) fires the account's line_blocked webhooks.
  void OnHealth(carriers::CarrierEvent e) {
    carriers::LineHealth before;
    {
      std::lock_guard lock(queue_mu_);
      before = state_.health;
      if (before == e.health) return;
      state_ = Outbound::LineState{e.health, e.at, e.reason};
    }
    spdlog::warn("line {} is {} (was {}): {}", line_.number, carriers::LineHealthName(e.health),
                 carriers::LineHealthName(before), e.reason);
    if (events_) {
      events_->Publish(line_.account_id, "line.status.changed",
                       std::string("{\"sendblue_number\":\"") + line_.number + "\",\"status\":\"" +
                           std::string(carriers::LineHealthName(e.health)) +
                           "\",\"previous_status\":\"" +
                           std::string(carriers::LineHealthName(before)) + "\"}",
                       e.at);
    }
    if (e.health == carriers::LineHealth::kOnline) return;
    if (events_) {
      events_->Publish(line_.account_id, "line.blocked",
                       LineBlockedEventData(line_.number, carriers::LineHealthName(e.health)),
                       e.at);
    }
    store_.RecordEvent(line_.account_id, "line_blocked",
                       LineBlockedJson(line_.number, carriers::LineHealthName(e.health),
                                       carriers::LineHealthName(before), e.reason, e.at),
                       line_.number,
                       [number = line_.number](Result<Ok> r) {
                         if (!r.ok()) {
                           spdlog::error("line {}: line_blocked webhooks not queued: {}", number,
                                         r.error().message);
                         }
                       });
  }

  void Report(int64_t message_id, Status to, std::optional<MessageError> error,
              std::optional<Service> service, std::optional<bool> was_downgraded,
              std::string source, std::optional<TimePoint> at = std::nullopt,
              bool receipt = false) {
    store::TransitionRequest r;
    r.message_id = message_id;
    r.to = to;
    r.at = at.value_or(clock_.Now());
    r.error = std::move(error);
    r.service = service;
    r.was_downgraded = was_downgraded;
    r.source = std::move(source);
    r.receipt = receipt;
    Metrics& metrics = metrics_;
    const bool listening = events_ && events_->Listening(line_.account_id);
    auto self = shared_from_this();
    store_.Transition(std::move(r), [&metrics, to, listening, self,
                                     message_id](Result<store::TransitionOutcome> out) {
      if (!out.ok() || !out->applied) return;
      metrics.CountStatus(to);
      if (!listening) return;
      // Off the store's writer thread.
      asio::post(self->strand_, [self, message_id, to] { self->PublishUpdate(message_id, to); });
    });
  }

  // message.updated for an applied change to `status` (the message is read only when someone
  // listens to the account; it may have moved on since, so the event says the status it is
  // about).
  void PublishUpdate(int64_t message_id, Status status) {
    if (!events_ || !events_->Listening(line_.account_id)) return;
    auto m = store_.FindMessageById(message_id);
    if (!m.ok()) return;
    m->status = status;
    events_->Publish(m->account_id, "message.updated", RenderMessageJson(m.value()),
                     m->date_updated);
  }

  void ArmResolveTimer() {
    if (awaiting_report_.empty() || resolve_armed_) return;
    TimePoint earliest = TimePoint::max();
    for (const auto& [id, deadline] : awaiting_report_) earliest = std::min(earliest, deadline);
    resolve_armed_ = true;
    const auto wait =
        std::max(Millis(1), std::chrono::duration_cast<Millis>(earliest - clock_.Now()));
    resolve_timer_.expires_after(wait);
    resolve_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      self->resolve_armed_ = false;
      if (ec) return;
      self->SweepUnresolved();
    });
  }

  // A message the carrier took but never reported on within the resolve timeout fails with
  // 10002 (SPEC.md §3).
  void SweepUnresolved() {
    const TimePoint now = clock_.Now();
    for (auto it = awaiting_report_.begin(); it != awaiting_report_.end();) {
      if (it->second <= now) {
        MessageError e{ErrorCode::kFailedToResolve,
                       "No final status from the carrier within the line's resolve timeout",
                       "resolve_timeout", std::nullopt};
        Report(it->first, Status::kError, std::move(e), std::nullopt, std::nullopt,
               "resolve-timeout");
        it = awaiting_report_.erase(it);
      } else {
        ++it;
      }
    }
    ArmResolveTimer();
  }

  asio::strand<asio::io_context::executor_type> strand_;
  store::Store& store_;
  Clock& clock_;
  Metrics& metrics_;
  store::Line line_;
  mutable std::mutex queue_mu_;  // written on the strand; read from elsewhere
  LineLimits limits_;            // guarded by queue_mu_
  Millis reconnect_backoff_;
  std::function<void(int64_t)> forward_;
  std::function<void(carriers::CarrierEvent)> inbound_;
  MediaProbe media_probe_;
  EventHub* events_;
  LineQueue queue_;  // guarded by queue_mu_
  std::unique_ptr<carriers::Carrier> carrier_;
  asio::steady_timer pump_timer_;
  asio::steady_timer resolve_timer_;
  bool resolve_armed_ = false;
  std::map<int64_t, TimePoint> awaiting_report_;  // accepted by the carrier, no report yet
  std::unordered_set<int64_t> waiting_ids_;       // QUEUED messages in queue_ (strand)
  Outbound::LineState state_;                     // guarded by queue_mu_
  std::atomic<int64_t> depth_{0};                 // QUEUED messages, reservations included
  std::atomic<int64_t> capacity_;
  std::atomic<int64_t> next_out_ms_{0};
  std::atomic<int64_t> waiting_new_{0};  // first messages waiting for a new-contact slot
  Millis lookup_ttl_;                    // guarded by lookup_mu_
  std::mutex lookup_mu_;
  std::unordered_map<std::string, std::pair<Service, TimePoint>>
      lookups_;  // address → (service, expiry)
  bool retired_ = false;
};

namespace {

carriers::OutboundMessage ToOutbound(const Message& m) {
  carriers::OutboundMessage out{m.id,       m.handle,      m.line_number, m.contact,
                                m.content,  m.media_url,   m.send_style,  std::nullopt,
                                m.group_id, m.participants};
  if (m.message_type == "group") out.service = Service::kIMessage;  // groups are iMessage
  return out;
}

}  // namespace

LineLimits EffectiveLimits(const QueueSettings& settings, const store::Line& line) {
  auto it = settings.per_line.find(line.number);
  LineLimits l = it == settings.per_line.end() ? settings.defaults : it->second;
  const store::LineSettings& own = line.settings;
  if (own.burst_per_second) l.burst_per_second = *own.burst_per_second;
  if (own.queue_capacity) l.queue_capacity = static_cast<size_t>(*own.queue_capacity);
  if (own.new_contacts_per_day)
    l.new_contacts.per_day = static_cast<int>(*own.new_contacts_per_day);
  if (own.new_contacts_per_hour) {
    l.new_contacts.per_hour = static_cast<int>(*own.new_contacts_per_hour);
  }
  if (own.new_contact_after) l.new_contact_after = *own.new_contact_after;
  if (own.resolve_timeout) l.resolve_timeout = *own.resolve_timeout;
  if (own.shared) l.shared = *own.shared;
  return l;
}

Outbound::Outbound(asio::io_context& io, store::Store& store, Clock& clock, IdGenerator& ids,
                   Metrics& metrics, CarrierFactory factory, QueueSettings settings)
    : io_(io),
      store_(store),
      clock_(clock),
      ids_(ids),
      metrics_(metrics),
      factory_(std::move(factory)),
      settings_(std::move(settings)),
      started_at_(clock.Now()) {}

Outbound::~Outbound() {
  std::lock_guard lock(refresh_mu_);
  if (watch_timer_) watch_timer_->cancel();
}

std::optional<store::Line> Outbound::FindLine(const std::string& number) {
  {
    std::shared_lock lock(mu_);
    if (auto it = lines_.find(number); it != lines_.end()) return it->second;
  }
  auto line = store_.FindLine(number);
  if (!line.ok()) return std::nullopt;
  std::unique_lock lock(mu_);
  lines_.emplace(number, line.value());
  return line.value();
}

LineLimits Outbound::LimitsFor(const store::Line& line) const {
  return EffectiveLimits(settings_, line);
}

std::shared_ptr<LineDriver> Outbound::ExistingDriver(const std::string& number) {
  std::shared_lock lock(mu_);
  if (auto it = drivers_.find(number); it != drivers_.end()) return it->second;
  if (auto it = retired_.find(number); it != retired_.end()) return it->second;
  return nullptr;
}

std::shared_ptr<LineDriver> Outbound::Driver(const store::Line& line) {
  {
    std::shared_lock lock(mu_);
    if (auto it = drivers_.find(line.number); it != drivers_.end()) return it->second;
    if (auto it = standby_.find(line.number); it != standby_.end()) return it->second;
  }
  std::unique_lock lock(mu_);
  if (auto it = drivers_.find(line.number); it != drivers_.end()) return it->second;
  if (auto it = standby_.find(line.number); it != standby_.end()) return it->second;
  // With leases, a line another node drives gets a driver without a carrier: it answers for the
  // line's limits and usage here, and sends nothing.
  const bool standby = leased_ && !owned_.contains(line.number);
  auto driver = std::make_shared<LineDriver>(
      io_, store_, clock_, metrics_, line, EffectiveLimits(settings_, line),
      settings_.reconnect_backoff, [this](int64_t id) { Forward(id); },
      [this](carriers::CarrierEvent e) { OnCarrierEvent(std::move(e)); }, settings_.media_probe,
      settings_.events);
  // The line's new-contact window survives restarts: count what it started in the last day.
  auto starts = store_.NewContactStarts(line.number, clock_.Now() - std::chrono::hours(25));
  if (starts.ok()) {
    driver->SeedNewContacts(starts.value());
  } else {
    spdlog::warn("line {}: cannot read its recent new contacts ({}); its window starts empty",
                 line.number, starts.error().message);
  }
  if (standby) {
    standby_.emplace(line.number, driver);
    return driver;
  }
  driver->SetCarrier(factory_(line, *driver));
  drivers_.emplace(line.number, driver);
  return driver;
}

void Outbound::UseLeases(RemoteFn remote) {
  std::unique_lock lock(mu_);
  leased_ = true;
  remote_ = std::move(remote);
}

bool Outbound::Drives(const std::string& line) {
  std::shared_lock lock(mu_);
  return leased_ ? owned_.contains(line) : true;
}

std::vector<std::string> Outbound::Driven() {
  std::shared_lock lock(mu_);
  if (leased_) return std::vector<std::string>(owned_.begin(), owned_.end());
  std::vector<std::string> out;
  for (const auto& [number, d] : drivers_) out.push_back(number);
  std::sort(out.begin(), out.end());
  return out;
}

size_t Outbound::Sweep(const std::string& number, TimePoint accepted_before) {
  auto line = FindLine(number);
  if (!line || !Drives(number)) return 0;
  auto unfinished = store_.UnfinishedOutbound(number);
  if (!unfinished.ok()) return 0;
  auto d = Driver(line.value());
  size_t n = 0;
  for (const Message& m : unfinished.value()) {
    if (m.status != Status::kQueued || m.date_created >= accepted_before) continue;
    d->AddRecovered();
    d->Enqueue(QueuedMessage{ToOutbound(m), false, m.new_contact});  // (waits once)
    ++n;
  }
  return n;
}

bool Outbound::Adopt(const std::string& number) {
  auto line = store_.FindLine(number);
  if (!line.ok()) {
    spdlog::warn("line {}: cannot take it over: {}", number, line.error().message);
    return false;
  }
  {
    std::unique_lock lock(mu_);
    lines_.insert_or_assign(number, line.value());
    owned_.insert(number);
    standby_.erase(number);
  }
  auto d = Driver(line.value());
  // What the line's previous holder left: waiting messages resume, those it had handed to the
  // carrier are reconciled (resubmitted, and counted, when the carrier cannot account for them).
  // (Read after the line is marked driven here: a message that another node announces meanwhile
  // is queued too, and the store lets only one of the two copies be sent.)
  auto unfinished = store_.UnfinishedOutbound(number);
  if (!unfinished.ok()) {
    spdlog::error("line {}: cannot read its unfinished messages: {}", number,
                  unfinished.error().message);
    Release(number);
    return false;
  }
  for (const Message& m : unfinished.value()) {
    if (m.status == Status::kQueued) {
      d->AddRecovered();
      d->Enqueue(QueuedMessage{ToOutbound(m), false, m.new_contact});
    } else {
      d->Reconcile(ToOutbound(m), m.status);
    }
  }
  spdlog::info("line {}: driven by this node ({} unfinished messages taken over)", number,
               unfinished->size());
  return true;
}

void Outbound::Release(const std::string& number) {
  std::shared_ptr<LineDriver> d;
  {
    std::unique_lock lock(mu_);
    owned_.erase(number);
    if (auto it = drivers_.find(number); it != drivers_.end()) {
      d = it->second;
      drivers_.erase(it);
    }
  }
  if (!d) return;
  {
    // Kept: a carrier report already on its way may still reach it (and is ignored).
    std::unique_lock lock(mu_);
    stopped_.push_back(d);
  }
  // Bounded, so that a stopping io_context cannot hold the lease thread forever.
  auto stopped = d->Stop();
  if (!io_.stopped() && stopped.wait_for(std::chrono::seconds(5)) != std::future_status::ready) {
    spdlog::warn("line {}: its driver did not stop within 5 s", number);
  }
  // Writes the driver made before it stopped (an ACCEPTED on its way) land before the next
  // holder reads the line's messages.
  store_.Flush();
  spdlog::info("line {}: no longer driven by this node", number);
}

Result<Ok> Outbound::Reserve(const store::Line& line) {
  // Another node's line: its queue is there; the store takes the message and that node hears.
  if (!Drives(line.number)) return Ok{};
  auto driver = Driver(line);
  if (driver->TryReserve()) return Ok{};
  // A place opens when the next waiting message leaves; the queue knows when that is due.
  Millis wait{1000};
  if (const int64_t next = driver->next_out_ms(); next > 0) {
    wait = std::max(wait, Millis(next - ToUnixMillis(clock_.Now())));
  }
  return Error{ErrorKind::kThrottled,
               "The queue of line " + line.number + " is full (" +
                   std::to_string(driver->limits().queue_capacity) +
                   " messages waiting); retry later",
               ErrorCode::kRateLimitExceeded, wait};
}

void Outbound::CancelReservation(const std::string& line) {
  if (!Drives(line)) return;
  if (auto d = ExistingDriver(line)) d->Unreserve();
}

void Outbound::Enqueue(const Message& m) {
  if (!Drives(m.line_number)) {
    if (remote_) remote_(m.line_number, m.id);
    return;
  }
  auto d = ExistingDriver(m.line_number);
  if (!d) return;  // Reserve() always creates the driver first
  d->Enqueue(QueuedMessage{ToOutbound(m), false, m.new_contact});
}

void Outbound::SetHolders(std::map<std::string, std::string> holders,
                          std::map<std::string, std::string> addresses) {
  std::unique_lock lock(mu_);
  holders_ = std::move(holders);
  addresses_ = std::move(addresses);
}

std::optional<std::string> Outbound::HolderAddress(const std::string& line) {
  std::shared_lock lock(mu_);
  if (!leased_ || owned_.contains(line)) return std::nullopt;
  auto holder = holders_.find(line);
  if (holder == holders_.end()) return std::nullopt;
  auto address = addresses_.find(holder->second);
  if (address == addresses_.end()) return std::nullopt;
  return address->second;
}

std::optional<std::string> Outbound::HolderOf(const std::string& line) {
  std::shared_lock lock(mu_);
  if (!leased_) return std::nullopt;
  auto it = holders_.find(line);
  return it == holders_.end() ? "" : it->second;
}

void Outbound::Deliver(int64_t message_id, const std::string& line) {
  // Not (or no longer) ours: whoever takes the line over finds the message in the store.
  if (Drives(line)) Forward(message_id);
}

void Outbound::Forward(int64_t message_id) {
  auto m = store_.FindMessageById(message_id);
  if (!m.ok() || m->status != Status::kQueued) return;  // failed with its line, or gone on
  if (!Drives(m->line_number)) {
    // This node stopped driving the line while the message waited: its holder takes it.
    if (remote_) remote_(m->line_number, m->id);
    return;
  }
  auto line = FindLine(m->line_number);
  if (!line) {
    spdlog::warn("message {} waits for line {}, which does not exist", m->handle, m->line_number);
    return;
  }
  auto d = Driver(*line);
  d->AddRecovered();
  d->Enqueue(QueuedMessage{ToOutbound(m.value()), false, m->new_contact});
}

Result<size_t> Outbound::Recover() {
  {
    // Changes made before this start are already in what the store says.
    auto changes = store_.LineChangesSince(0);
    if (!changes.ok()) return changes.error();
    std::lock_guard lock(refresh_mu_);
    line_change_seq_ = changes->second;
  }
  // With leases, each line's messages resume when this node takes the line (Adopt).
  if (Leased()) return 0;
  auto unfinished = store_.UnfinishedOutbound();
  if (!unfinished.ok()) return unfinished.error();
  size_t n = 0;
  for (const Message& m : unfinished.value()) {
    auto line = FindLine(m.line_number);
    if (!line) {
      // The line was removed while this message was with its carrier: nobody can report on it.
      store::TransitionRequest r;
      r.message_id = m.id;
      r.to = Status::kError;
      r.at = clock_.Now();
      r.error = MessageError{
          ErrorCode::kFailedToResolve,
          "The line " + m.line_number + " was removed before its carrier reported on the message",
          "line_removed", std::nullopt};
      r.source = "recovery";
      store_.Transition(std::move(r), [](Result<store::TransitionOutcome>) {});
      continue;
    }
    auto d = Driver(*line);
    if (m.status == Status::kQueued) {
      d->AddRecovered();
      d->Enqueue(QueuedMessage{ToOutbound(m), false, m.new_contact});
    } else {
      d->Reconcile(ToOutbound(m), m.status);  // in flight at the carrier when we stopped
    }
    ++n;
  }
  return n;
}

void Outbound::Refresh() {
  std::lock_guard refresh(refresh_mu_);
  auto changes = store_.LineChangesSince(std::max<int64_t>(0, line_change_seq_));
  if (!changes.ok()) {
    spdlog::warn("cannot read line changes: {}", changes.error().message);
    return;
  }
  line_change_seq_ = changes->second;
  std::set<std::string> numbers(changes->first.begin(), changes->first.end());
  for (const auto& number : numbers) {
    auto line = store_.FindLine(number);
    std::shared_ptr<LineDriver> driver;
    bool carrier_changed = false;
    {
      std::unique_lock lock(mu_);
      if (auto it = drivers_.find(number); it != drivers_.end()) driver = it->second;
      if (auto it = lines_.find(number); line.ok() && it != lines_.end()) {
        carrier_changed =
            it->second.carrier != line->carrier || it->second.options_json != line->options_json;
      }
      if (!line.ok()) {
        lines_.erase(number);
        owned_.erase(number);
        standby_.erase(number);
        if (driver) {
          drivers_.erase(number);
          retired_[number] = driver;
        }
      } else {
        lines_.insert_or_assign(number, line.value());
      }
    }
    if (!line.ok()) {
      store_.ForgetRoutes(number);
      if (driver) driver->Retire();
      spdlog::info("line {} was removed", number);
    } else if (driver) {
      driver->UpdateLimits(EffectiveLimits(settings_, line.value()));
      if (carrier_changed) {
        spdlog::info("line {}: carrier settings changed; reconnecting", number);
        driver->ReplaceCarrier(factory_(line.value(), *driver));
      }
    } else if (!Leased()) {
      Driver(line.value());  // a new line: its carrier connects now, to hear from phones too
    }                        // with leases, a new line starts on whichever node takes its lease
  }
}

void Outbound::Push(const std::string& line, std::string token, std::string body,
                    std::function<void(Result<Ok>)> done) {
  auto driver = ExistingDriver(line);
  if (!driver) return done(Error::NotFound("no line " + line));
  driver->Push(std::move(token), std::move(body), std::move(done));
}

void Outbound::StartLines() {
  if (Leased()) return;  // lines start as their leases are taken
  auto lines = store_.ListLines(std::nullopt);
  if (!lines.ok()) {
    spdlog::error("cannot list lines: {}", lines.error().message);
    return;
  }
  for (const auto& line : lines.value()) {
    {
      std::unique_lock lock(mu_);
      lines_.insert_or_assign(line.number, line);
    }
    Driver(line);
  }
}

void Outbound::WatchLineChanges(Millis every) {
  std::lock_guard lock(refresh_mu_);
  watch_every_ = every;
  watch_timer_ = std::make_unique<asio::steady_timer>(io_);
  ArmWatch();
}

void Outbound::ArmWatch() {
  watch_timer_->expires_after(watch_every_);
  watch_timer_->async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    Refresh();
    std::lock_guard lock(refresh_mu_);
    ArmWatch();
  });
}

Outbound::Usage Outbound::NewContactUsage(const store::Line& line) {
  return Driver(line)->Usage(clock_.Now());
}

Outbound::LineState Outbound::StateOf(const store::Line& line) {
  auto d = ExistingDriver(line.number);
  return d ? d->State() : LineState{carriers::LineHealth::kOnline, started_at_, ""};
}

int Outbound::NewContactsRemaining(const store::Line& line) {
  return Driver(line)->NewContactsRemaining(clock_.Now());
}

size_t Outbound::QueueDepth(const std::string& line) {
  auto d = ExistingDriver(line);
  return d ? static_cast<size_t>(std::max<int64_t>(0, d->depth())) : 0;
}

void Outbound::RenderGauges(std::string& out, bool per_line) {
  std::shared_lock lock(mu_);
  int64_t total = 0;
  for (const auto& [number, d] : drivers_) total += std::max<int64_t>(0, d->depth());
  out += "# HELP bluegate_queue_depth Messages waiting in QUEUED on every line.\n";
  out += "# TYPE bluegate_queue_depth gauge\n";
  out += "bluegate_queue_depth " + std::to_string(total) + "\n";
  out += "# HELP bluegate_lines Lines this process drives or stands by for.\n";
  out += "# TYPE bluegate_lines gauge\n";
  out += "bluegate_lines " + std::to_string(drivers_.size()) + "\n";
  // Line numbers are the accounts' phone numbers: only when the operator asks for them.
  if (!per_line) return;
  out += "# HELP bluegate_line_queue_depth Messages waiting in QUEUED per line.\n";
  out += "# TYPE bluegate_line_queue_depth gauge\n";
  for (const auto& [number, d] : drivers_) {
    out += "bluegate_line_queue_depth{line=\"" + number + "\"} " +
           std::to_string(std::max<int64_t>(0, d->depth())) + "\n";
  }
}

Message InboundMessage(const store::Line& line, const carriers::CarrierEvent& event,
                       IdGenerator& ids) {
  Message m;
  m.handle = ids.NewUuid();
  m.account_id = line.account_id;
  m.is_outbound = false;
  m.line_number = line.number;
  m.contact = event.from;
  m.content = event.content;
  m.media_url = event.media_url;
  m.service = event.service.value_or(Service::kIMessage);
  m.date_created = event.at;
  m.date_updated = event.at;
  if (!event.group_id.empty()) {
    m.message_type = "group";
    m.group_id = event.group_id;
    m.participants = event.participants;
  }
  return m;
}

void Outbound::RecordInbound(const store::Line& line, carriers::CarrierEvent event,
                             std::function<void(Result<Message>)> done) {
  Message m = InboundMessage(line, event, ids_);
  Metrics& metrics = metrics_;
  EventHub* events = settings_.events;
  store_.RecordInbound(std::move(m), [&metrics, events, done = std::move(done)](Result<Message> r) {
    if (r.ok()) metrics.CountStatus(Status::kReceived);
    if (r.ok() && events) {
      events->Publish(r->account_id, "message.received", RenderMessageJson(r.value()),
                      r->date_created);
    }
    if (done) done(std::move(r));
  });
}

void Outbound::Lookup(const store::Line& line, std::string address,
                      std::function<void(carriers::LookupResult)> done) {
  Driver(line)->Lookup(address, std::move(done));
}

void Outbound::SendSignal(const store::Line& line, carriers::Signal signal,
                          std::function<void(Result<Ok>)> done) {
  Driver(line)->Send(std::move(signal), std::move(done));
}

void Outbound::RecordTyping(const store::Line& line, const carriers::CarrierEvent& event) {
  std::string payload = TypingJson(event.from, event.is_typing, line.number, event.at);
  if (settings_.events) {
    settings_.events->Publish(line.account_id, "typing.changed", payload, event.at);
  }
  store_.RecordEvent(line.account_id, "typing_indicator", std::move(payload), line.number,
                     [](Result<Ok> r) {
                       if (!r.ok())
                         spdlog::warn("typing_indicator not queued: {}", r.error().message);
                     });
}

void Outbound::OnCarrierEvent(carriers::CarrierEvent event) {
  if (event.kind == carriers::CarrierEvent::Kind::kInbound ||
      event.kind == carriers::CarrierEvent::Kind::kTyping) {
    auto line = FindLine(event.line);
    if (!line) return;
    if (event.kind == carriers::CarrierEvent::Kind::kTyping) return RecordTyping(*line, event);
    RecordInbound(*line, std::move(event), nullptr);
    return;
  }
  if (auto d = ExistingDriver(event.line)) d->OnEvent(std::move(event));
}

}  // namespace bluegate::queue
