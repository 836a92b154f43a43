#include "queue/outbound.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <future>

#include "store/sqlite/sqlite_store.h"
#include "testing/manual_clock.h"
#include "testing/manual_timers.h"
#include "testing/temp_dir.h"

namespace bluegate::queue {
namespace {

// Takes every message and never reports: these tests drive the carrier's events by hand.
class QuietCarrier final : public carriers::Carrier {
 public:
  void Submit(carriers::OutboundMessage,
              std::function<void(carriers::SubmitResult)> done) override {
    ++submits;
    done(carriers::SubmitResult{});
  }
  int submits = 0;
  void Reconcile(carriers::OutboundMessage,
                 std::function<void(std::optional<carriers::ReconcileResult>)> done) override {
    done(std::nullopt);
  }
  void Lookup(std::string, std::function<void(carriers::LookupResult)> done) override {
    ++lookups;
    done(carriers::LookupResult{Service::kSms, {}});
  }
  int lookups = 0;
  void Send(carriers::Signal, std::function<void(Result<Ok>)> done) override { done(Ok{}); }
  std::string_view name() const override { return "quiet"; }
};

class OutboundTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store::SqliteSettings s;
    s.path = dir_.File("test.db");
    store_ = store::MakeSqliteStore(s, clock_);
    account_ = store_->CreateAccount("a@example.com", "blue").value();
    line_ = store::Line{"+12125550199", account_.id, "quiet", "{}", {}};
    ASSERT_TRUE(store_->AddLine(line_).ok());
    outbound_ = std::make_unique<Outbound>(
        io_, *store_, clock_, timers_, SecureIds(), metrics_,
        [this](const store::Line&, carriers::CarrierSink& sink) {
          sink_ = &sink;
          auto carrier = std::make_unique<QuietCarrier>();
          carrier_ = carrier.get();
          return carrier;
        },
        QueueSettings{});
  }
  void TearDown() override {
    outbound_.reset();
    store_.reset();
  }

  void Health(carriers::LineHealth h, std::string reason) {
    carriers::CarrierEvent e;
    e.kind = carriers::CarrierEvent::Kind::kHealth;
    e.line = line_.number;
    e.at = clock_.Now();
    e.health = h;
    e.reason = std::move(reason);
    sink_->OnCarrierEvent(std::move(e));
    io_.restart();
    io_.run();
    store_->Flush();
  }

  std::vector<store::DeliveryRecord> LineBlockedDeliveries() {
    store::DeliveryQuery q;
    q.account_id = account_.id;
    std::vector<store::DeliveryRecord> out;
    auto page = store_->ListDeliveries(q).value();
    for (auto& r : page.data) {
      if (r.delivery.kind == "line_blocked") out.push_back(r);
    }
    return out;
  }

  testing::TempDir dir_{"outbound-test"};
  testing::ManualClock clock_;
  boost::asio::io_context io_;
  // After io_: it goes first, and the calls it still holds release their drivers while the
  // io_context they run on is there.
  testing::ManualTimers timers_{clock_};
  Metrics metrics_;
  std::unique_ptr<store::Store> store_;
  store::Account account_;
  store::Line line_;
  carriers::CarrierSink* sink_ = nullptr;
  QuietCarrier* carrier_ = nullptr;
  std::unique_ptr<Outbound> outbound_;
};

TEST_F(OutboundTest, ALineThatGoesOfflineFiresLineBlockedAndShowsInItsState) {
  store::WebhookEntry hook;
  hook.url = "http://127.0.0.1:9/blocked";
  ASSERT_TRUE(store_->AddWebhooks(account_.id, "line_blocked", {hook}, std::nullopt).ok());
  EXPECT_EQ(outbound_->StateOf(line_).health, carriers::LineHealth::kOnline);
  (void)outbound_->NewContactUsage(line_);  // starts the line's driver and carrier
  ASSERT_NE(sink_, nullptr);

  clock_.Advance(std::chrono::minutes(1));
  Health(carriers::LineHealth::kOffline, "SMSC connection lost");
  const auto state = outbound_->StateOf(line_);
  EXPECT_EQ(state.health, carriers::LineHealth::kOffline);
  EXPECT_EQ(state.changed_at, clock_.Now());
  EXPECT_EQ(state.reason, "SMSC connection lost");
  auto blocked = LineBlockedDeliveries();
  ASSERT_EQ(blocked.size(), 1u);
  EXPECT_NE(blocked[0].delivery.payload.find(R"("status":"OFFLINE","previous_status":"ONLINE")"),
            std::string::npos)
      << blocked[0].delivery.payload;
  EXPECT_NE(blocked[0].delivery.payload.find(R"("reason":"SMSC connection lost")"),
            std::string::npos);

  Health(carriers::LineHealth::kOffline, "still down");
  EXPECT_EQ(LineBlockedDeliveries().size(), 1u) << "only a change of state fires";
  Health(carriers::LineHealth::kOnline, "reconnected");
  EXPECT_EQ(outbound_->StateOf(line_).health, carriers::LineHealth::kOnline);
  EXPECT_EQ(LineBlockedDeliveries().size(), 1u) << "coming back is not a block";
  Health(carriers::LineHealth::kDegraded, "throttled by the SMSC");
  EXPECT_EQ(LineBlockedDeliveries().size(), 2u);
}

// A message the store holds QUEUED that the line never heard of (the node that accepted it died
// before announcing it) is found by a sweep, and sent once however often it is swept.
TEST_F(OutboundTest, ASweepSendsAnUnannouncedMessageOnce) {
  Message m;
  m.handle = "unannounced";
  m.account_id = account_.id;
  m.line_number = line_.number;
  m.contact = "+14155552001";
  m.content = "hi";
  m.status = Status::kQueued;
  m.date_created = m.date_updated = clock_.Now();
  std::promise<Result<Message>> stored;
  store_->Accept(m, {}, [&stored](Result<Message> r) { stored.set_value(std::move(r)); });
  ASSERT_TRUE(stored.get_future().get().ok());
  // What is ready runs, and what the store's writer hands back (the line's resolve timer stays
  // armed, so the io_context is polled rather than run).
  auto settle = [this] {
    for (int i = 0; i < 10; ++i) {
      io_.restart();
      io_.poll();
      store_->Flush();
    }
  };
  EXPECT_EQ(outbound_->QueueDepth(line_.number), 0u) << "nobody announced it";
  outbound_->Sweep(line_.number);
  outbound_->Sweep(line_.number);
  settle();
  ASSERT_NE(carrier_, nullptr);
  EXPECT_EQ(carrier_->submits, 1) << "swept twice, waited and went once";
  EXPECT_EQ(store_->FindMessage(account_.id, "unannounced")->status, Status::kAccepted);
  outbound_->Sweep(line_.number);
  settle();
  EXPECT_EQ(carrier_->submits, 1) << "no longer waiting";
  EXPECT_EQ(outbound_->QueueDepth(line_.number), 0u);
}

// Sweeps keep finding what waits for the line's pace: each message waits once however often.
TEST_F(OutboundTest, SweptMessagesThatWaitForTheirTurnWaitOnce) {
  store::LineSettings slow;
  slow.burst_per_second = 0.001;  // one message now, the next in about 17 minutes
  ASSERT_TRUE(store_->SetLineSettings(line_.number, slow).ok());
  for (const char* handle : {"first", "second"}) {
    Message m;
    m.handle = handle;
    m.account_id = account_.id;
    m.line_number = line_.number;
    m.contact = "+14155552001";
    m.content = handle;
    m.status = Status::kQueued;
    m.date_created = m.date_updated = clock_.Now();
    std::promise<Result<Message>> stored;
    store_->Accept(m, {}, [&stored](Result<Message> r) { stored.set_value(std::move(r)); });
    ASSERT_TRUE(stored.get_future().get().ok());
  }
  clock_.Advance(std::chrono::seconds(30));
  for (int sweep = 0; sweep < 3; ++sweep) {
    outbound_->Sweep(line_.number);
    for (int i = 0; i < 10; ++i) {
      io_.restart();
      io_.poll();
      store_->Flush();
    }
  }
  EXPECT_EQ(carrier_->submits, 1);
  EXPECT_EQ(outbound_->QueueDepth(line_.number), 1u) << "the second waits once, not three times";
}

// The send path owns the queue place: a message holds one from before it is stored until it
// leaves the queue; one that was not stored, or was DECLINED, gives it back at once.
TEST_F(OutboundTest, ASubmittedMessageHoldsAQueuePlaceAndADeclinedOneGivesItBack) {
  store::LineSettings one;
  one.queue_capacity = 1;
  ASSERT_TRUE(store_->SetLineSettings(line_.number, one).ok());
  store::ContactFields stop;
  stop.opted_out = true;
  ASSERT_TRUE(
      store_->WriteContact(account_.id, "+14155552009", stop, store::ContactWrite::kCreate).ok());
  auto line = outbound_->LineFor(account_.id, "+14155552009", line_.number);
  ASSERT_TRUE(line.ok()) << line.error().message;
  auto submit = [&](const std::string& to) {
    Message m;
    m.handle = "h-" + to;
    m.account_id = account_.id;
    m.is_outbound = true;
    m.line_number = line_.number;
    m.contact = to;
    m.content = "hi";
    m.status = Status::kQueued;
    m.date_created = m.date_updated = clock_.Now();
    std::promise<Result<Message>> stored;
    outbound_->Submit(line.value(), m, false,
                      [&stored](Result<Message> r) { stored.set_value(std::move(r)); });
    return stored.get_future().get();
  };
  auto declined = submit("+14155552009");
  ASSERT_TRUE(declined.ok());
  EXPECT_EQ(declined->status, Status::kDeclined);
  EXPECT_EQ(outbound_->QueueDepth(line_.number), 0u) << "a DECLINED message holds no place";
  auto queued = submit("+14155552001");
  ASSERT_TRUE(queued.ok()) << queued.error().message;
  EXPECT_EQ(queued->status, Status::kQueued);
  EXPECT_EQ(outbound_->QueueDepth(line_.number), 1u);
  auto full = submit("+14155552002");
  ASSERT_FALSE(full.ok());
  EXPECT_EQ(full.error().kind, ErrorKind::kThrottled);
  EXPECT_EQ(full.error().code, ErrorCode::kRateLimitExceeded);
  EXPECT_FALSE(store_->FindMessage(account_.id, "h-+14155552002").ok()) << "nothing was stored";
  io_.restart();
  io_.poll();  // the queued message leaves for the carrier, and frees its place
  store_->Flush();
  io_.restart();
  io_.poll();
  EXPECT_EQ(outbound_->QueueDepth(line_.number), 0u);
  EXPECT_TRUE(submit("+14155552002").ok());
}

TEST_F(OutboundTest, ReplacedLimitsReachARunningLineAndItsOwnSettingsStillWin) {
  LineLimits one;
  one.queue_capacity = 1;
  outbound_->ReplaceLimits(one, {});
  auto line = outbound_->LineFor(account_.id, "+14155552001", line_.number);
  ASSERT_TRUE(line.ok()) << line.error().message;
  int n = 0;
  auto submit = [&] {
    Message m;
    m.handle = "h-" + std::to_string(++n);
    m.account_id = account_.id;
    m.is_outbound = true;
    m.line_number = line_.number;
    m.contact = "+14155552001";
    m.content = "hi";
    m.status = Status::kQueued;
    m.date_created = m.date_updated = clock_.Now();
    std::promise<Result<Message>> stored;
    outbound_->Submit(line.value(), m, false,
                      [&stored](Result<Message> r) { stored.set_value(std::move(r)); });
    return stored.get_future().get();
  };
  ASSERT_TRUE(submit().ok());
  ASSERT_FALSE(submit().ok()) << "a queue of one is full";
  LineLimits three;
  three.queue_capacity = 3;
  outbound_->ReplaceLimits(three, {});
  EXPECT_EQ(outbound_->LimitsFor(line_).queue_capacity, 3u);
  io_.restart();
  io_.poll();  // the line's strand takes them (and the queued message may leave)
  store_->Flush();
  io_.restart();
  io_.poll();
  const size_t depth = outbound_->QueueDepth(line_.number);
  for (size_t i = depth; i < 3; ++i) EXPECT_TRUE(submit().ok()) << "the running line took 3";
  EXPECT_FALSE(submit().ok()) << "and no more";
  store::Line own = line_;
  own.settings.queue_capacity = 2;
  EXPECT_EQ(outbound_->LimitsFor(own).queue_capacity, 2u) << "the line's own setting wins";
  LineLimits per_line = three;
  per_line.queue_capacity = 7;
  outbound_->ReplaceLimits(three, {{line_.number, per_line}});
  EXPECT_EQ(outbound_->LimitsFor(line_).queue_capacity, 7u) << "the file's override for the line";
}

TEST_F(OutboundTest, ASendGoesFromTheContactsBoundLineOrANamedLineOfTheAccount) {
  auto pooled = outbound_->LineFor(account_.id, "+14155552001", "");
  ASSERT_TRUE(pooled.ok()) << pooled.error().message;
  EXPECT_EQ(pooled->number, line_.number) << "the account's only line";
  auto foreign = outbound_->LineFor(account_.id, "+14155552001", "+12125550100");
  ASSERT_FALSE(foreign.ok());
  EXPECT_NE(foreign.error().message.find("is not a line of this account"), std::string::npos);
}

TEST_F(OutboundTest, ALineAttachedByAnotherProcessServesTheAccountAtOnce) {
  // `bluegate lines attach` writes the store while the server runs; the server has the line
  // cached already and has not polled for line changes since.
  auto guest = store_->CreateAccount("guest@example.com", "free").value();
  ASSERT_TRUE(outbound_->FindLine(line_.number).has_value());
  EXPECT_FALSE(outbound_->FindLineServing(line_.number, guest.id).has_value()) << "not attached";
  ASSERT_TRUE(store_->ShareLine(line_.number, guest.id, true).ok());
  auto line = outbound_->FindLineServing(line_.number, guest.id);
  ASSERT_TRUE(line.has_value()) << "attached a moment ago";
  EXPECT_TRUE(line->Serves(guest.id));
  auto sent = outbound_->LineFor(guest.id, "+14155552002", line_.number);
  EXPECT_TRUE(sent.ok()) << (sent.ok() ? "" : sent.error().message);
  EXPECT_FALSE(outbound_->FindLineServing("+12125550177", guest.id).has_value()) << "no such line";
}

TEST_F(OutboundTest, LookupsAreCachedForTheLinesTtl) {
  std::optional<Service> got;
  auto lookup = [&] {
    got.reset();
    outbound_->Lookup(line_, "+12125550101", [&got](carriers::LookupResult r) { got = r.service; });
    io_.restart();
    io_.run();
  };
  lookup();
  EXPECT_EQ(got, Service::kSms);
  EXPECT_EQ(carrier_->lookups, 1);
  clock_.Advance(std::chrono::hours(23));
  lookup();
  EXPECT_EQ(got, Service::kSms);
  EXPECT_EQ(carrier_->lookups, 1) << "within the 24 h TTL the cache answers";
  clock_.Advance(std::chrono::hours(2));
  lookup();
  EXPECT_EQ(carrier_->lookups, 2) << "past it the carrier is asked again";
}

}  // namespace
}  // namespace bluegate::queue
