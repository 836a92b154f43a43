// The line driver's test fixture: a driver on a manual clock over the in-memory store, with a
// carrier that holds every submit and reconcile until the test answers it.
#pragma once

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include <memory>
#include <string>
#include <vector>

#include "queue/line_driver.h"
#include "testing/fake_message_log.h"
#include "testing/manual_clock.h"
#include "testing/manual_timers.h"

namespace bluegate::queue::testing_support {

using namespace std::chrono_literals;
using carriers::SubmitOutcome;

// Holds every submit and reconcile until the test answers it.
class ScriptedCarrier final : public carriers::Carrier {
 public:
  struct Submitted {
    carriers::OutboundMessage message;
    std::function<void(carriers::SubmitResult)> done;
  };
  struct Reconciled {
    carriers::OutboundMessage message;
    std::function<void(std::optional<carriers::ReconcileResult>)> done;
  };

  void Submit(carriers::OutboundMessage m,
              std::function<void(carriers::SubmitResult)> done) override {
    submits.push_back({std::move(m), std::move(done)});
  }
  void Reconcile(carriers::OutboundMessage m,
                 std::function<void(std::optional<carriers::ReconcileResult>)> done) override {
    reconciles.push_back({std::move(m), std::move(done)});
  }
  void Lookup(std::string, std::function<void(carriers::LookupResult)> done) override {
    done(carriers::LookupResult{service, {}});
  }
  void Send(carriers::Signal, std::function<void(Result<Ok>)> done) override { done(Ok{}); }
  std::string_view name() const override { return "scripted"; }

  std::vector<Submitted> submits;
  std::vector<Reconciled> reconciles;
  Service service = Service::kIMessage;  // what every lookup answers
};

class LineDriverTest : public ::testing::Test {
 protected:
  void Start(LineLimits limits = Unpaced(), MediaProbe probe = {}, MediaShrinker shrinker = {}) {
    limits_ = limits;
    LineDriverEnv env{io_,     log_,    log_,    clock_, timers_, metrics_, nullptr, std::move(probe),
                      std::move(shrinker), 1000ms};
    driver_ = std::make_shared<LineDriver>(
        env, line_, limits,
        LineDriverHooks{[this](int64_t id) { forwarded_.push_back(id); },
                        [this](const store::Line&, carriers::CarrierEvent e) {
                          heard_.push_back(std::move(e));
                        }});
    auto carrier = std::make_unique<ScriptedCarrier>();
    carrier_ = carrier.get();
    driver_->SetCarrier(std::move(carrier));
  }
  void TearDown() override {
    if (driver_) driver_->Stop();
    Settle();
  }

  // No burst or new-contact pacing, unless a test asks for it.
  static LineLimits Unpaced() {
    LineLimits l;
    l.burst_per_second = 0;
    l.new_contacts = NewContactLimits{0, 0};
    return l;
  }

  // Runs everything the driver has posted, and what that posts, until nothing is left.
  void Settle() {
    for (;;) {
      io_.restart();
      if (io_.poll() == 0) return;
    }
  }
  void Advance(Millis d) {
    timers_.Advance(d, [this] { Settle(); });
  }

  // A message stored QUEUED on the line and not (yet) handed to the driver (a restart, a move).
  int64_t Store(const std::string& to, bool new_contact = false, std::string media_url = {}) {
    Message m;
    m.handle = "m" + std::to_string(++handles_);
    m.account_id = line_.account_id;
    m.line_number = line_.number;
    m.contact = to;
    m.content = "hello";
    m.media_url = std::move(media_url);
    m.is_outbound = true;
    m.status = Status::kQueued;
    m.new_contact = new_contact;
    m.date_created = m.date_updated = clock_.Now();
    return log_.Add(m);
  }
  // A message stored QUEUED on the line and handed to the driver, as the Outbound does.
  int64_t Queue(const std::string& to, bool new_contact = false, std::string media_url = {}) {
    const int64_t id = Store(to, new_contact, std::move(media_url));
    EXPECT_TRUE(driver_->TryReserve());
    driver_->Enqueue(QueuedMessage{Outbound(id), false, new_contact});
    Settle();
    return id;
  }
  carriers::OutboundMessage Outbound(int64_t id) {
    const Message m = log_.Get(id);
    carriers::OutboundMessage out;
    out.message_id = m.id;
    out.handle = m.handle;
    out.line = m.line_number;
    out.to = m.contact;
    out.content = m.content;
    out.media_url = m.media_url;
    out.account_id = m.account_id;
    return out;
  }
  void Answer(size_t submit, SubmitOutcome outcome, Millis retry_after = 0ms) {
    carrier_->submits.at(submit).done(carriers::SubmitResult{outcome, "", retry_after});
    Settle();
  }
  void Report(int64_t id, Status status) {
    carriers::CarrierEvent e;
    e.kind = carriers::CarrierEvent::Kind::kStatus;
    e.at = clock_.Now();
    e.line = line_.number;
    e.message_id = id;
    e.status = status;
    driver_->OnCarrierEvent(std::move(e));
    Settle();
  }
  Status StatusOf(int64_t id) { return log_.Get(id).status; }
  size_t Submits() const { return carrier_->submits.size(); }

  testing::ManualClock clock_;
  boost::asio::io_context io_;
  // After io_: it goes first, and the calls it still holds release their drivers while the
  // io_context they run on is there.
  testing::ManualTimers timers_{clock_};
  testing::FakeMessageLog log_;
  Metrics metrics_;
  store::Line line_{"+12125550199", 7, "scripted", "{}", {}};
  LineLimits limits_;
  std::shared_ptr<LineDriver> driver_;
  ScriptedCarrier* carrier_ = nullptr;
  std::vector<int64_t> forwarded_;
  std::vector<carriers::CarrierEvent> heard_;
  int handles_ = 0;
};

}  // namespace bluegate::queue::testing_support
