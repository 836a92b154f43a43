#include "queue/outbound.h"

#include <atomic>
#include <future>
#include <set>
#include <tuple>

#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

namespace bluegate::queue {

namespace asio = boost::asio;

// One line: its queue, its carrier, its timers. Everything but `depth_` is touched only on
// `strand_`.
class LineDriver : public std::enable_shared_from_this<LineDriver> {
 public:
  LineDriver(asio::io_context& io, store::Store& store, Clock& clock, Metrics& metrics,
             store::Line line, const LineLimits& limits, Millis reconnect_backoff)
      : strand_(asio::make_strand(io)),
        store_(store),
        clock_(clock),
        metrics_(metrics),
        line_(std::move(line)),
        limits_(limits),
        reconnect_backoff_(reconnect_backoff),
        queue_(limits),
        pump_timer_(strand_),
        resolve_timer_(strand_) {}

  void SetCarrier(std::unique_ptr<carriers::Carrier> carrier) { carrier_ = std::move(carrier); }
  const store::Line& line() const { return line_; }
  const LineLimits& limits() const { return limits_; }
  int64_t depth() const { return depth_.load(std::memory_order_relaxed); }

  bool TryReserve() {
    int64_t d = depth_.load(std::memory_order_relaxed);
    do {
      if (d >= static_cast<int64_t>(limits_.queue_capacity)) return false;
    } while (!depth_.compare_exchange_weak(d, d + 1, std::memory_order_relaxed));
    return true;
  }
  void Unreserve() { depth_.fetch_sub(1, std::memory_order_relaxed); }
  void AddRecovered() { depth_.fetch_add(1, std::memory_order_relaxed); }

  void Enqueue(QueuedMessage m) {
    asio::post(strand_, [self = shared_from_this(), m = std::move(m)]() mutable {
      self->queue_.Push(std::move(m));
      self->Pump();
    });
  }

  // Runs `fn(queue)` on the strand and waits for it.
  template <typename Fn>
  auto WithQueue(Fn fn) {
    std::promise<decltype(fn(queue_))> done;
    auto future = done.get_future();
    asio::post(strand_, [this, &fn, &done] { done.set_value(fn(queue_)); });
    return future.get();
  }

  void OnEvent(carriers::CarrierEvent e) {
    asio::post(strand_, [self = shared_from_this(), e = std::move(e)]() mutable {
      self->HandleEvent(std::move(e));
    });
  }

 private:
  // Sends every message the limits allow now, and arms a timer for the next one.
  void Pump() {
    for (;;) {
      auto next = queue_.Next(clock_.Now());
      if (auto* m = std::get_if<QueuedMessage>(&next)) {
        depth_.fetch_sub(1, std::memory_order_relaxed);
        StartSend(std::move(*m));
      } else if (auto* at = std::get_if<TimePoint>(&next)) {
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
        if (!out->applied) return;  // already final (declined or failed elsewhere)
        self->metrics_.CountStatus(Status::kAccepted);
        self->Submit(std::move(msg));
      });
    });
  }

  void Submit(carriers::OutboundMessage msg) {
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
        queue_.PushFront(QueuedMessage{std::move(msg), true});
        queue_.PauseUntil(clock_.Now() + wait);
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
    queue_.PushFront(QueuedMessage{std::move(msg), true});
    Pump();
  }

  void HandleEvent(carriers::CarrierEvent e) {
    using Kind = carriers::CarrierEvent::Kind;
    if (e.kind == Kind::kStatus) {
      awaiting_report_.erase(e.message_id);
      Report(e.message_id, e.status, std::move(e.error), e.service, e.was_downgraded,
             "carrier:" + std::string(carrier_ ? carrier_->name() : "unknown"), e.at);
    } else if (e.kind == Kind::kRead) {
      store_.MarkRead(e.message_id, e.at, [](Result<Message>) {});
    }
  }

  void Report(int64_t message_id, Status to, std::optional<MessageError> error,
              std::optional<Service> service, std::optional<bool> was_downgraded,
              std::string source, std::optional<TimePoint> at = std::nullopt) {
    store::TransitionRequest r;
    r.message_id = message_id;
    r.to = to;
    r.at = at.value_or(clock_.Now());
    r.error = std::move(error);
    r.service = service;
    r.was_downgraded = was_downgraded;
    r.source = std::move(source);
    Metrics& metrics = metrics_;
    store_.Transition(std::move(r), [&metrics, to](Result<store::TransitionOutcome> out) {
      if (out.ok() && out->applied) metrics.CountStatus(to);
    });
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
  LineLimits limits_;
  Millis reconnect_backoff_;
  LineQueue queue_;
  std::unique_ptr<carriers::Carrier> carrier_;
  asio::steady_timer pump_timer_;
  asio::steady_timer resolve_timer_;
  bool resolve_armed_ = false;
  std::map<int64_t, TimePoint> awaiting_report_;  // accepted by the carrier, no report yet
  std::atomic<int64_t> depth_{0};                 // QUEUED messages, reservations included
};

namespace {

carriers::OutboundMessage ToOutbound(const Message& m) {
  return carriers::OutboundMessage{m.id,      m.handle,    m.line_number, m.contact,
                                   m.content, m.media_url, m.send_style};
}

}  // namespace

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

Outbound::~Outbound() = default;

std::optional<store::Line> Outbound::FindLine(const std::string& number) {
  {
    std::lock_guard lock(mu_);
    if (auto it = lines_.find(number); it != lines_.end()) return it->second;
  }
  auto line = store_.FindLine(number);
  if (!line.ok()) return std::nullopt;
  std::lock_guard lock(mu_);
  lines_.emplace(number, line.value());
  return line.value();
}

std::shared_ptr<LineDriver> Outbound::ExistingDriver(const std::string& number) {
  std::lock_guard lock(mu_);
  auto it = drivers_.find(number);
  return it == drivers_.end() ? nullptr : it->second;
}

std::shared_ptr<LineDriver> Outbound::Driver(const store::Line& line) {
  std::lock_guard lock(mu_);
  if (auto it = drivers_.find(line.number); it != drivers_.end()) return it->second;
  auto limits_it = settings_.per_line.find(line.number);
  const LineLimits& limits =
      limits_it == settings_.per_line.end() ? settings_.defaults : limits_it->second;
  auto driver = std::make_shared<LineDriver>(io_, store_, clock_, metrics_, line, limits,
                                             settings_.reconnect_backoff);
  driver->SetCarrier(factory_(line, *this));
  drivers_.emplace(line.number, driver);
  return driver;
}

Result<Ok> Outbound::Reserve(const store::Line& line) {
  auto driver = Driver(line);
  if (driver->TryReserve()) return Ok{};
  const auto& limits = driver->limits();
  // When the queue drains at the line's rate, a place opens in about one rate interval.
  const auto wait = limits.burst_per_second > 0
                        ? Millis(static_cast<int64_t>(1000.0 / limits.burst_per_second) + 1)
                        : Millis(1000);
  return Error{ErrorKind::kThrottled,
               "The queue of line " + line.number + " is full (" +
                   std::to_string(limits.queue_capacity) + " messages waiting); retry later",
               ErrorCode::kRateLimitExceeded, std::max(wait, Millis(1000))};
}

void Outbound::CancelReservation(const std::string& line) {
  if (auto d = ExistingDriver(line)) d->Unreserve();
}

void Outbound::Enqueue(const Message& m) {
  auto d = ExistingDriver(m.line_number);
  if (!d) return;  // Reserve() always creates the driver first
  d->Enqueue(QueuedMessage{ToOutbound(m), false, m.new_contact});
}

Result<size_t> Outbound::Recover() {
  auto unfinished = store_.UnfinishedOutbound();
  if (!unfinished.ok()) return unfinished.error();
  size_t n = 0;
  for (const Message& m : unfinished.value()) {
    auto line = FindLine(m.line_number);
    if (!line) {
      spdlog::warn("message {} is for line {}, which no longer exists; left as is", m.handle,
                   m.line_number);
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

Outbound::Usage Outbound::NewContactUsage(const store::Line& line) {
  auto d = Driver(line);
  const TimePoint now = clock_.Now();
  Usage u;
  u.limits = d->limits().new_contacts;
  std::tie(u.daily, u.hourly) = d->WithQueue([now](LineQueue& q) {
    return std::make_pair(q.new_contacts().Daily(now), q.new_contacts().Hourly(now));
  });
  return u;
}

size_t Outbound::QueueDepth(const std::string& line) {
  auto d = ExistingDriver(line);
  return d ? static_cast<size_t>(std::max<int64_t>(0, d->depth())) : 0;
}

void Outbound::RenderGauges(std::string& out) {
  std::lock_guard lock(mu_);
  out += "# HELP bluegate_line_queue_depth Messages waiting in QUEUED per line.\n";
  out += "# TYPE bluegate_line_queue_depth gauge\n";
  for (const auto& [number, d] : drivers_) {
    out += "bluegate_line_queue_depth{line=\"" + number + "\"} " +
           std::to_string(std::max<int64_t>(0, d->depth())) + "\n";
  }
}

void Outbound::OnCarrierEvent(carriers::CarrierEvent event) {
  if (event.kind == carriers::CarrierEvent::Kind::kInbound) {
    auto line = FindLine(event.line);
    if (!line) return;
    Message m;
    m.handle = ids_.NewUuid();
    m.account_id = line->account_id;
    m.is_outbound = false;
    m.line_number = line->number;
    m.contact = event.from;
    m.content = event.content;
    m.media_url = event.media_url;
    m.service = event.service.value_or(Service::kIMessage);
    m.date_created = event.at;
    m.date_updated = event.at;
    Metrics& metrics = metrics_;
    store_.RecordInbound(std::move(m), [&metrics](Result<Message> r) {
      if (r.ok()) metrics.CountStatus(Status::kReceived);
    });
    return;
  }
  if (auto d = ExistingDriver(event.line)) d->OnEvent(std::move(event));
}

}  // namespace bluegate::queue
