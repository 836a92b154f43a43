// The outbound engine's lines: a driver for each, what a start recovers, what a line's removal
// or change does, and the queue gauges. The send path is in outbound_send.cc, scale-out in
// outbound_leases.cc, and what carriers hear in outbound_heard.cc.
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
#include <boost/asio/strand.hpp>

namespace bluegate::queue {

namespace asio = boost::asio;

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
  l.held = line.held;
  return l;
}

Outbound::Outbound(asio::io_context& io, OutboundStore store, Clock& clock, Timers& timers,
                   IdGenerator& ids, Metrics& metrics, CarrierFactory factory,
                   QueueSettings settings)
    : io_(io),
      store_(store),
      clock_(clock),
      timers_(timers),
      ids_(ids),
      metrics_(metrics),
      factory_(std::move(factory)),
      settings_(std::move(settings)),
      started_at_(clock.Now()) {}

Outbound::~Outbound() {
  std::lock_guard lock(refresh_mu_);
  if (watch_timer_) watch_timer_->Cancel();
}

std::optional<store::Line> Outbound::FindLine(const std::string& number) {
  {
    std::shared_lock lock(mu_);
    if (auto it = lines_.find(number); it != lines_.end()) return it->second;
  }
  auto line = store_.directory.FindLine(number);
  if (!line.ok()) return std::nullopt;
  std::unique_lock lock(mu_);
  lines_.emplace(number, line.value());
  return line.value();
}

std::optional<store::Line> Outbound::FindLineServing(const std::string& number,
                                                     int64_t account_id) {
  auto line = FindLine(number);
  if (line && line->Serves(account_id)) return line;
  if (!line) return std::nullopt;  // FindLine read the store on the miss
  Refresh();
  line = FindLine(number);
  if (line && line->Serves(account_id)) return line;
  return std::nullopt;
}

LineLimits Outbound::LimitsFor(const store::Line& line) const {
  std::lock_guard lock(limits_mu_);
  return EffectiveLimits(settings_, line);
}

void Outbound::ReplaceLimits(LineLimits defaults, std::map<std::string, LineLimits> per_line) {
  {
    std::lock_guard lock(limits_mu_);
    settings_.defaults = std::move(defaults);
    settings_.per_line = std::move(per_line);
  }
  std::vector<std::pair<std::shared_ptr<LineDriver>, store::Line>> drivers;
  {
    std::shared_lock lock(mu_);
    for (const auto& [number, d] : drivers_) {
      auto it = lines_.find(number);  // the line as last read (its own settings, which win)
      drivers.emplace_back(d, it != lines_.end() ? it->second : d->line());
    }
  }
  for (const auto& [d, line] : drivers) d->UpdateLimits(LimitsFor(line));
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
  const LineDriverEnv env{io_,
                          store_.log,
                          store_.messages,
                          clock_,
                          timers_,
                          metrics_,
                          settings_.events,
                          settings_.media_probe,
                          settings_.media_shrinker,
                          settings_.reconnect_backoff};
  auto driver = std::make_shared<LineDriver>(
      env, line, LimitsFor(line),
      LineDriverHooks{
          [this](int64_t id) { Forward(id); },
          [this](const store::Line& l, carriers::CarrierEvent e) { Heard(l, std::move(e)); }});
  // The line's new-contact window survives restarts: count what it started in the last day.
  auto starts =
      store_.messages.NewContactStarts(line.number, clock_.Now() - std::chrono::hours(25));
  if (starts.ok()) {
    driver->SeedNewContacts(starts.value());
  } else {
    spdlog::warn("line {}: cannot read its recent new contacts ({}); its window starts empty",
                 line.number, starts.error().message);
  }
  const LineLimits limits = LimitsFor(line);
  if (limits.sms_per_day > 0) {
    auto sent = store_.messages.CountSmsSince(line.number, DayStartAtOrBefore(clock_.Now()));
    if (sent.ok()) {
      driver->SeedSmsToday(sent.value());
    } else {
      spdlog::warn("line {}: cannot count today's SMS ({}); its allowance starts at 0", line.number,
                   sent.error().message);
    }
  }
  if (standby) {
    standby_.emplace(line.number, driver);
    return driver;
  }
  driver->SetCarrier(factory_(line, *driver));
  drivers_.emplace(line.number, driver);
  return driver;
}

void Outbound::Deliver(int64_t message_id, const std::string& line) {
  // Not (or no longer) ours: whoever takes the line over finds the message in the store.
  if (Drives(line)) Forward(message_id);
}

void Outbound::Forward(int64_t message_id) {
  auto m = store_.messages.FindMessageById(message_id);
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
    auto changes = store_.directory.LineChangesSince(0);
    if (!changes.ok()) return changes.error();
    std::lock_guard lock(refresh_mu_);
    line_change_seq_ = changes->second;
  }
  // With leases, each line's messages resume when this node takes the line (Adopt).
  if (Leased()) return 0;
  // Messages with their carriers when the process stopped are reconciled; QUEUED ones stay in
  // the store, and each line pages them in as it sends.
  auto in_flight = store_.messages.InFlightOutbound();
  if (!in_flight.ok()) return in_flight.error();
  auto queued = store_.messages.QueuedByLine();
  if (!queued.ok()) return queued.error();
  size_t n = 0;
  for (const Message& m : in_flight.value()) {
    auto line = FindLine(m.line_number);
    if (!line) {
      FailOnRemovedLine(m.id, m.line_number);
      continue;
    }
    Driver(*line)->Reconcile(ToOutbound(m), m.status);  // in flight at the carrier when we stopped
    ++n;
  }
  for (const auto& [number, waiting] : queued.value()) {
    auto line = FindLine(number);
    if (!line) {
      FailQueuedOnRemovedLine(number);
      continue;
    }
    Driver(*line)->Resume(waiting);
    n += static_cast<size_t>(waiting.total());
  }
  return n;
}

// The line was removed while this message was with its carrier (or waited for it, with the
// server stopped): nobody can report on it.
void Outbound::FailOnRemovedLine(int64_t message_id, const std::string& line) {
  store::TransitionRequest r;
  r.message_id = message_id;
  r.to = Status::kError;
  r.at = clock_.Now();
  r.error =
      MessageError{ErrorCode::kFailedToResolve,
                   "The line " + line + " was removed before its carrier reported on the message",
                   "line_removed", std::nullopt};
  r.source = "recovery";
  store_.log.Transition(std::move(r), [](Result<store::TransitionOutcome>) {});
}

void Outbound::FailQueuedOnRemovedLine(const std::string& line) {
  for (bool first : {false, true}) {
    int64_t after = 0;
    for (;;) {
      auto page = store_.messages.QueuedPage(line, first, after, 1000);
      if (!page.ok() || page->empty()) break;
      for (const Message& m : page.value()) FailOnRemovedLine(m.id, line);
      after = page->back().id;
    }
  }
}

void Outbound::Refresh() {
  std::lock_guard refresh(refresh_mu_);
  auto changes = store_.directory.LineChangesSince(std::max<int64_t>(0, line_change_seq_));
  if (!changes.ok()) {
    spdlog::warn("cannot read line changes: {}", changes.error().message);
    return;
  }
  line_change_seq_ = changes->second;
  std::set<std::string> numbers(changes->first.begin(), changes->first.end());
  bool removed = false;
  for (const auto& number : numbers) {
    auto line = store_.directory.FindLine(number);
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
      store_.contacts.ForgetRoutes(number);
      if (driver) driver->Retire();
      removed = true;
      spdlog::info("line {} was removed", number);
    } else if (driver) {
      driver->UpdateLimits(LimitsFor(line.value()));
      if (carrier_changed) {
        spdlog::info("line {}: carrier settings changed; reconnecting", number);
        driver->ReplaceCarrier(factory_(line.value(), *driver));
      }
    } else if (!Leased()) {
      Driver(line.value());  // a new line: its carrier connects now, to hear from phones too
    }                        // with leases, a new line starts on whichever node takes its lease
  }
  if (!removed) return;
  // A removed line's waiting messages may have moved to other lines (`lines remove --move-to`):
  // those lines read their queues again to find them.
  std::vector<std::shared_ptr<LineDriver>> drivers;
  {
    std::shared_lock lock(mu_);
    for (const auto& [number, d] : drivers_) drivers.push_back(d);
  }
  for (const auto& d : drivers) d->Rescan();
}

void Outbound::Push(const std::string& line, std::string token, std::string body,
                    std::function<void(Result<Ok>)> done) {
  auto driver = ExistingDriver(line);
  if (!driver) return done(Error::NotFound("no line " + line));
  driver->Push(std::move(token), std::move(body), std::move(done));
}

void Outbound::StartLines() {
  if (Leased()) return;  // lines start as their leases are taken
  auto lines = store_.directory.ListLines(std::nullopt);
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
  watch_timer_ = timers_.Make([this](std::function<void()> fn) { asio::post(io_, std::move(fn)); });
  ArmWatch();
}

void Outbound::ArmWatch() {
  watch_timer_->ArmAt(clock_.Now() + watch_every_, [this] {
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
  size_t held = 0;
  for (const auto& [number, d] : drivers_) {
    total += std::max<int64_t>(0, d->depth());
    held += d->held();
  }
  out += "# HELP bluegate_queue_depth Messages waiting in QUEUED on every line.\n";
  out += "# TYPE bluegate_queue_depth gauge\n";
  out += "bluegate_queue_depth " + std::to_string(total) + "\n";
  out +=
      "# HELP bluegate_queue_held Waiting messages held in memory (each line's window); the "
      "rest wait in the store.\n";
  out += "# TYPE bluegate_queue_held gauge\n";
  out += "bluegate_queue_held " + std::to_string(held) + "\n";
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

}  // namespace bluegate::queue
