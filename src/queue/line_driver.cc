#include "queue/line_driver.h"

#include <boost/asio/post.hpp>

#include <algorithm>
#include <limits>

#include <spdlog/spdlog.h>

#include "core/account_events.h"
#include "core/message_json.h"
#include "queue/outcome_policy.h"

namespace bluegate::queue {

namespace asio = boost::asio;

LineDriver::LineDriver(const LineDriverEnv& env, store::Line line, const LineLimits& limits,
                       LineDriverHooks hooks)
    : strand_(asio::make_strand(env.io)),
      store_(env.log),
      messages_(env.messages),
      clock_(env.clock),
      metrics_(env.metrics),
      events_(env.events),
      media_probe_(env.media_probe),
      media_shrinker_(env.media_shrinker),
      reconnect_backoff_(env.reconnect_backoff),
      line_(std::move(line)),
      hooks_(std::move(hooks)),
      limits_(limits),
      queue_(limits),
      state_{carriers::LineHealth::kOnline, env.clock.Now(), ""},
      window_(std::max<size_t>(1, limits.queue_window)),
      send_window_(std::max<size_t>(1, limits.send_window)),
      capacity_(static_cast<int64_t>(limits.queue_capacity)),
      lookup_ttl_(limits.lookup_ttl) {
  auto post = [strand = strand_](std::function<void()> fn) { asio::post(strand, std::move(fn)); };
  pump_timer_ = env.timers.Make(post);
  resolve_timer_ = env.timers.Make(post);
}

Error LineDriver::NotDrivenHere() const {
  return Error{ErrorKind::kDisconnected,
               "line " + line_.number + " is driven by another node of this deployment",
               ErrorCode::kServerRateExceeded, Millis(1000)};
}

void LineDriver::Push(std::string token, std::string body, std::function<void(Result<Ok>)> done) {
  OnStrand([token = std::move(token), body = std::move(body),
            done = std::move(done)](LineDriver& self) mutable {
    if (!self.carrier_) return done(self.NotDrivenHere());
    done(self.carrier_->Push(token, std::move(body)));
  });
}

std::future<void> LineDriver::Stop() {
  auto done = std::make_shared<std::promise<void>>();
  auto ready = done->get_future();
  OnStrand([done](LineDriver& self) {
    self.retired_ = true;
    self.pump_timer_->Cancel();
    self.resolve_timer_->Cancel();
    self.resolve_armed_ = false;
    self.TakeWaiting();
    self.awaiting_report_.clear();
    self.carrier_.reset();
    done->set_value();
  });
  return ready;
}

void LineDriver::ReplaceCarrier(std::unique_ptr<carriers::Carrier> carrier) {
  OnStrand([carrier = std::move(carrier)](LineDriver& self) mutable {
    auto old = std::move(self.carrier_);
    self.carrier_ = std::move(carrier);
    {
      std::lock_guard lock(self.lookup_mu_);
      self.lookups_.clear();
    }
    old.reset();
  });
}

LineLimits LineDriver::limits() const {
  std::lock_guard lock(queue_mu_);
  return limits_;
}

bool LineDriver::TryReserve() {
  int64_t d = depth_.load(std::memory_order_relaxed);
  do {
    if (d >= capacity_.load(std::memory_order_relaxed)) return false;
  } while (!depth_.compare_exchange_weak(d, d + 1, std::memory_order_relaxed));
  return true;
}

LineUsage LineDriver::Usage(TimePoint now) const {
  std::lock_guard lock(queue_mu_);
  return LineUsage{queue_.new_contacts().Daily(now), queue_.new_contacts().Hourly(now),
                   limits_.new_contacts};
}

LineState LineDriver::State() const {
  std::lock_guard lock(queue_mu_);
  return state_;
}

int LineDriver::NewContactsRemaining(TimePoint now) const {
  int free = 0;
  {
    std::lock_guard lock(queue_mu_);
    free = queue_.new_contacts().Remaining(now);
  }
  if (free == std::numeric_limits<int>::max()) return free;
  return free - static_cast<int>(waiting_new_.load(std::memory_order_relaxed));
}

void LineDriver::UpdateLimits(LineLimits limits) {
  OnStrand([limits](LineDriver& self) {
    {
      std::lock_guard lock(self.queue_mu_);
      self.limits_ = limits;
      self.queue_.SetLimits(limits);
    }
    self.capacity_.store(static_cast<int64_t>(limits.queue_capacity), std::memory_order_relaxed);
    self.window_ = std::max<size_t>(1, limits.queue_window);
    self.send_window_ = std::max<size_t>(1, limits.send_window);
    {
      std::lock_guard lock(self.lookup_mu_);
      self.lookup_ttl_ = limits.lookup_ttl;
    }
    self.pump_timer_->Cancel();
    self.Pump();
  });
}

void LineDriver::Retire() {
  OnStrand([](LineDriver& self) {
    self.retired_ = true;
    self.pump_timer_->Cancel();
    for (auto& m : self.TakeWaiting()) self.hooks_.forward(m.message.message_id);
  });
}

void LineDriver::OnCarrierEvent(carriers::CarrierEvent e) {
  // The line's carrier reports here directly: no lookup of the line per event.
  if (e.kind == carriers::CarrierEvent::Kind::kInbound ||
      e.kind == carriers::CarrierEvent::Kind::kTyping) {
    return hooks_.heard(line_, std::move(e));
  }
  OnStrand([e = std::move(e)](LineDriver& self) mutable { self.HandleEvent(std::move(e)); });
}

class LineDriver::SendSlot {
 public:
  explicit SendSlot(std::weak_ptr<LineDriver> driver) : driver_(std::move(driver)) {}
  SendSlot(const SendSlot&) = delete;
  SendSlot& operator=(const SendSlot&) = delete;
  ~SendSlot() {
    if (auto d = driver_.lock()) d->OnStrand([](LineDriver& self) { self.FreeSlot(); });
  }

 private:
  std::weak_ptr<LineDriver> driver_;
};

LineDriver::Slot LineDriver::TakeSlot() {
  ++sending_;
  return std::make_shared<SendSlot>(weak_from_this());
}

void LineDriver::FreeSlot() {
  const bool was_full = sending_ >= send_window_;  // the pump stopped for want of this slot
  --sending_;
  if (was_full) Pump();
}

// Sends every message the limits and the send window allow now, and arms a timer for the next
// one (or waits for a slot).
void LineDriver::Pump() {
  if (retired_ || limits_.held) return;  // held: UpdateLimits pumps again on release
  for (;;) {
    if (sending_ >= send_window_) return;  // FreeSlot pumps again
    PageIn();
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
      StartSend(std::move(*m), TakeSlot());
    } else if (auto* at = std::get_if<TimePoint>(&next)) {
      next_out_ms_.store(ToUnixMillis(*at), std::memory_order_relaxed);
      pump_timer_->ArmAt(*at, [self = shared_from_this()] { self->Pump(); });
      return;
    } else {
      return;
    }
  }
}

void LineDriver::StartSend(QueuedMessage m, Slot slot) {
  if (m.already_accepted) {
    Submit(std::move(m.message), std::move(slot));
    return;
  }
  store::TransitionRequest r;
  r.message_id = m.message.message_id;
  r.to = Status::kAccepted;
  r.at = clock_.Now();
  r.source = "queue";
  r.expect_line = line_.number;
  auto self = shared_from_this();
  store_.Transition(std::move(r), [self, msg = std::move(m.message), slot = std::move(slot)](
                                      Result<store::TransitionOutcome> out) mutable {
    self->OnStrand([msg = std::move(msg), out = std::move(out),
                    slot = std::move(slot)](LineDriver& self) mutable {
      if (!out.ok()) {
        // The store is failing: the message stays QUEUED on disk and resumes after a restart.
        spdlog::error("line {}: cannot mark {} ACCEPTED: {}", self.line_.number, msg.handle,
                      out.error().message);
        return;
      }
      if (!out->applied) {
        // Moved to another line (this one is being removed): it goes there. Otherwise it is
        // already final (failed with the line's removal, or elsewhere).
        if (out->status == Status::kQueued && out->line != self.line_.number) {
          self.hooks_.forward(msg.message_id);
        }
        return;
      }
      self.metrics_.CountStatus(Status::kAccepted);
      self.PublishUpdate(msg.message_id, Status::kAccepted);
      self.Submit(std::move(msg), std::move(slot));
    });
  });
}

// SMS fallback (SPEC §6): the lookup decides the service before the carrier gets the message;
// SMS carries no send_style. A lookup that cannot tell leaves the carrier to decide.
void LineDriver::Submit(carriers::OutboundMessage msg, Slot slot) {
  if (!carrier_) return;  // stopped: the line's next holder takes the message over
  if (msg.service) return CheckMedia(std::move(msg), std::move(slot));
  auto self = shared_from_this();
  const std::string to = msg.to;
  Lookup(to,
         [self, msg = std::move(msg), slot = std::move(slot)](carriers::LookupResult r) mutable {
           self->OnStrand([msg = std::move(msg), r = std::move(r),
                           slot = std::move(slot)](LineDriver& self) mutable {
             msg.service = r.service.value_or(Service::kIMessage);
             if (msg.service == Service::kSms) msg.send_style.clear();
             self.CheckMedia(std::move(msg), std::move(slot));
           });
         });
}

void LineDriver::Lookup(const std::string& address,
                        std::function<void(carriers::LookupResult)> done) {
  const TimePoint now = clock_.Now();
  {
    std::lock_guard lock(lookup_mu_);
    if (auto it = lookups_.find(address); it != lookups_.end() && it->second.second > now) {
      return done(carriers::LookupResult{it->second.first, {}});
    }
  }
  OnStrand([address, done = std::move(done)](LineDriver& self) mutable {
    if (!self.carrier_) {
      return done(carriers::LookupResult{std::nullopt, self.NotDrivenHere().message});
    }
    self.carrier_->Lookup(address, [self = self.shared_from_this(), address,
                                    done = std::move(done)](carriers::LookupResult r) mutable {
      if (r.service) {
        std::lock_guard lock(self->lookup_mu_);
        if (self->lookups_.size() >= 100'000) self->lookups_.clear();
        self->lookups_[address] = {*r.service, self->clock_.Now() + self->lookup_ttl_};
      }
      done(std::move(r));
    });
  });
}

void LineDriver::Send(carriers::Signal signal, std::function<void(Result<Ok>)> done) {
  OnStrand([signal = std::move(signal), done = std::move(done)](LineDriver& self) mutable {
    if (!self.carrier_) return done(self.NotDrivenHere());
    self.carrier_->Send(std::move(signal), std::move(done));
  });
}

std::optional<MessageError> LineDriver::TakeSms(int64_t id) {
  const int limit = limits_.sms_per_day;
  if (limit <= 0) return std::nullopt;
  const TimePoint now = clock_.Now();
  const TimePoint today = DayStartAtOrBefore(now);
  if (sms_day_ == TimePoint{}) {
    sms_day_ = today;  // the seeded count is today's
  } else if (today != sms_day_) {
    sms_day_ = today;
    sms_sent_ = 0;
    sms_counted_.clear();
  }
  if (sms_counted_.contains(id)) return std::nullopt;  // a re-send of one already counted
  if (sms_sent_ < limit) {
    ++sms_sent_;
    sms_counted_.insert(id);
    return std::nullopt;
  }
  return MessageError{ErrorCode::kSmsLimitReached,
                      "Line " + line_.number + " has sent its " + std::to_string(limit) +
                          " SMS for today (lines.sms_per_day)",
                      "sms_limit_reached",
                      "retry after " + FormatIso8601(NextDayStart(now)) +
                          " (the allowance starts again at 03:00 New York)"};
}

void LineDriver::SubmitNow(carriers::OutboundMessage msg, Slot slot) {
  if (!carrier_) return;
  if (msg.service == Service::kSms) {
    if (auto refused = TakeSms(msg.message_id)) {
      Report(msg.message_id, Status::kError, std::move(refused), Service::kSms, std::nullopt,
             "sms-allowance");
      return;
    }
  }
  awaiting_report_[msg.message_id] = clock_.Now() + limits_.resolve_timeout;
  ArmResolveTimer();
  auto copy = msg;
  // The slot goes when the carrier has answered and the answer is acted on.
  carrier_->Submit(std::move(copy), [self = shared_from_this(), msg = std::move(msg),
                                     slot = std::move(slot)](carriers::SubmitResult r) mutable {
    self->OnStrand(
        [msg = std::move(msg), r = std::move(r), slot = std::move(slot)](LineDriver& self) mutable {
          self.OnSubmitted(std::move(msg), std::move(r));
        });
  });
}

void LineDriver::OnSubmitted(carriers::OutboundMessage msg, carriers::SubmitResult r) {
  using Action = SubmitDecision::Action;
  if (!carrier_) return;
  SubmitDecision d = DecideSubmit(r, reconnect_backoff_);
  if (d.action == Action::kAwaitReport) return;
  awaiting_report_.erase(msg.message_id);
  switch (d.action) {
    case Action::kAwaitReport:
      return;
    case Action::kFail:
      Report(msg.message_id, Status::kError, std::move(d.error), std::nullopt, std::nullopt,
             "carrier:" + std::string(carrier_->name()));
      return;
    case Action::kRequeue:
      Requeue(std::move(msg), d.pause);
      return;
    case Action::kReconcile:
      Reconcile(std::move(msg), Status::kAccepted);
      return;
  }
}

// Back to the front of the queue, to go again before the others (after `pause`, when given).
void LineDriver::Requeue(carriers::OutboundMessage msg, std::optional<Millis> pause) {
  depth_.fetch_add(1, std::memory_order_relaxed);
  {
    std::lock_guard lock(queue_mu_);
    queue_.PushFront(QueuedMessage{std::move(msg), true});
    if (pause) queue_.PauseUntil(clock_.Now() + *pause);
  }
  Pump();
}

void LineDriver::Reconcile(carriers::OutboundMessage msg, Status seen) {
  OnStrand([msg = std::move(msg), seen](LineDriver& self) mutable {
    if (!self.carrier_) return;
    auto copy = msg;
    self.carrier_->Reconcile(
        std::move(copy), [self = self.shared_from_this(), msg = std::move(msg),
                          seen](std::optional<carriers::ReconcileResult> r) mutable {
          self->OnStrand([msg = std::move(msg), seen, r = std::move(r)](LineDriver& self) mutable {
            self.OnReconciled(std::move(msg), seen, std::move(r));
          });
        });
  });
}

void LineDriver::OnReconciled(carriers::OutboundMessage msg, Status seen,
                              std::optional<carriers::ReconcileResult> r) {
  if (!carrier_) return;
  const ReconcileDecision d = DecideReconcile(r, seen);
  const std::string source = "reconcile:" + std::string(carrier_->name());
  for (size_t i = 0; i < d.reports.size(); ++i) {
    // Only the final report carries the carrier's error.
    const bool last = i + 1 == d.reports.size();
    Report(msg.message_id, d.reports[i], last ? r->error : std::nullopt, r->service,
           r->was_downgraded, source);
  }
  if (!d.resubmit) return;
  metrics_.CountCarrierResubmit();
  Requeue(std::move(msg), std::nullopt);
}

void LineDriver::HandleEvent(carriers::CarrierEvent e) {
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
void LineDriver::OnHealth(carriers::CarrierEvent e) {
  carriers::LineHealth before;
  {
    std::lock_guard lock(queue_mu_);
    before = state_.health;
    if (before == e.health) return;
    state_ = LineState{e.health, e.at, e.reason};
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
                     LineBlockedEventData(line_.number, carriers::LineHealthName(e.health)), e.at);
  }
  store_.RecordEvent(line_.account_id, "line_blocked",
                     LineBlockedJson(line_.number, carriers::LineHealthName(e.health),
                                     carriers::LineHealthName(before), e.reason, e.at),
                     line_.number, [number = line_.number](Result<Ok> r) {
                       if (!r.ok()) {
                         spdlog::error("line {}: line_blocked webhooks not queued: {}", number,
                                       r.error().message);
                       }
                     });
}

void LineDriver::Report(int64_t message_id, Status to, std::optional<MessageError> error,
                        std::optional<Service> service, std::optional<bool> was_downgraded,
                        std::string source, std::optional<TimePoint> at, bool receipt) {
  store::TransitionRequest r;
  r.message_id = message_id;
  r.to = to;
  r.at = at.value_or(clock_.Now());
  r.error = std::move(error);
  r.service = service;
  r.was_downgraded = was_downgraded;
  r.source = std::move(source);
  r.receipt = receipt;
  const bool listening = events_ && events_->Listening(line_.account_id);
  store_.Transition(std::move(r), [self = shared_from_this(), to, listening,
                                   message_id](Result<store::TransitionOutcome> out) {
    if (!out.ok() || !out->applied) return;
    self->metrics_.CountStatus(to);
    if (IsFinal(to, out->service)) {
      const std::chrono::duration<double> took = self->clock_.Now() - out->created_at;
      self->metrics_.ObserveFinal(out->service, took.count());
    }
    if (!listening) return;
    // Off the store's writer thread.
    self->OnStrand([message_id, to](LineDriver& self) { self.PublishUpdate(message_id, to); });
  });
}

// message.updated for an applied change to `status` (the message is read only when someone
// listens to the account; it may have moved on since, so the event says the status it is about).
void LineDriver::PublishUpdate(int64_t message_id, Status status) {
  if (!events_ || !events_->Listening(line_.account_id)) return;
  auto m = messages_.FindMessageById(message_id);
  if (!m.ok()) return;
  m->status = status;
  events_->Publish(m->account_id, "message.updated", RenderMessageJson(m.value()), m->date_updated);
}

void LineDriver::ArmResolveTimer() {
  if (awaiting_report_.empty() || resolve_armed_) return;
  TimePoint earliest = TimePoint::max();
  for (const auto& [id, deadline] : awaiting_report_) earliest = std::min(earliest, deadline);
  resolve_armed_ = true;
  resolve_timer_->ArmAt(earliest, [self = shared_from_this()] {
    self->resolve_armed_ = false;
    self->SweepUnresolved();
  });
}

// A message the carrier took but never reported on within the resolve timeout fails with 10002
// (SPEC.md §3).
void LineDriver::SweepUnresolved() {
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

}  // namespace bluegate::queue
