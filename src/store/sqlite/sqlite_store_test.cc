#include "store/sqlite/sqlite_store.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <future>

#include "testing/failing_vfs.h"
#include "testing/manual_clock.h"

namespace bluegate::store {
namespace {

class SqliteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("bluegate-store-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    Open();
    account_ = store_->CreateAccount("a@example.com", "blue").value();
    ASSERT_TRUE(store_->AddLine(Line{"+12125550199", account_.id, "sim", "{}", {}}).ok());
    store_->SetDeliveryObserver([this](std::vector<Delivery> ds) {
      std::lock_guard lock(mu_);
      for (auto& d : ds) observed_.push_back(d);
    });
  }
  void TearDown() override {
    testing::SetVfsFailing(false);
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  void Open() {
    SqliteSettings s;
    s.path = (dir_ / "test.db").string();
    s.vfs = testing::RegisterFailingVfs();
    store_ = MakeSqliteStore(s, clock_);
  }

  Message NewMessage(std::string handle, std::string callback = "") {
    Message m;
    m.handle = std::move(handle);
    m.account_id = account_.id;
    m.line_number = "+12125550199";
    m.contact = "+14155550100";
    m.content = "hi";
    m.status = Status::kQueued;
    m.status_callback = std::move(callback);
    m.date_created = clock_.Now();
    m.date_updated = clock_.Now();
    return m;
  }

  Result<Message> Accept(Message m, AcceptPolicy policy = {}) {
    std::promise<Result<Message>> p;
    store_->Accept(std::move(m), policy,
                   [&p](Result<Message> r) { p.set_value(std::move(r)); });
    return p.get_future().get();
  }

  Result<TransitionOutcome> Move(int64_t id, Status to,
                                 std::optional<Service> service = std::nullopt) {
    TransitionRequest r;
    r.message_id = id;
    r.to = to;
    r.at = clock_.Now();
    r.service = service;
    r.source = "test";
    std::promise<Result<TransitionOutcome>> p;
    store_->Transition(std::move(r),
                       [&p](Result<TransitionOutcome> o) { p.set_value(std::move(o)); });
    return p.get_future().get();
  }

  std::filesystem::path dir_;
  testing::ManualClock clock_;
  std::unique_ptr<Store> store_;
  Account account_;
  std::mutex mu_;
  std::vector<Delivery> observed_;
};

TEST_F(SqliteStoreTest, AcceptedMessagesAreReadBack) {
  auto m = Accept(NewMessage("h1"));
  ASSERT_TRUE(m.ok());
  EXPECT_GT(m->id, 0);
  auto found = store_->FindMessage(account_.id, "h1");
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->status, Status::kQueued);
  EXPECT_EQ(found->account_email, "a@example.com");
  EXPECT_EQ(found->plan, "blue");
  EXPECT_EQ(found->date_created, clock_.Now());
  EXPECT_FALSE(store_->FindMessage(account_.id + 1, "h1").ok()) << "another account sees nothing";
}

TEST_F(SqliteStoreTest, TransitionsMoveForwardAndLateReportsAreIgnored) {
  auto m = Accept(NewMessage("h2")).value();
  EXPECT_TRUE(Move(m.id, Status::kAccepted)->applied);
  EXPECT_TRUE(Move(m.id, Status::kSent, Service::kIMessage)->applied);
  EXPECT_TRUE(Move(m.id, Status::kDelivered)->applied);
  auto late = Move(m.id, Status::kSent);
  ASSERT_TRUE(late.ok());
  EXPECT_FALSE(late->applied);
  EXPECT_EQ(late->status, Status::kDelivered);
  EXPECT_EQ(store_->FindMessage(account_.id, "h2")->status, Status::kDelivered);
}

TEST_F(SqliteStoreTest, EachStatusChangeWritesItsCallbackDeliveryInOrder) {
  auto m = Accept(NewMessage("h3", "http://127.0.0.1:1/cb")).value();
  ASSERT_TRUE(Move(m.id, Status::kAccepted).ok());
  ASSERT_TRUE(Move(m.id, Status::kSent, Service::kSms).ok());
  ASSERT_FALSE(Move(m.id, Status::kDelivered)->applied)
      << "SENT over SMS is final: ignored, no delivery";
  auto ds = store_->DeliveriesForMessage(m.id).value();
  std::vector<Status> statuses;
  for (const auto& d : ds) statuses.push_back(d.status);
  EXPECT_EQ(statuses, (std::vector<Status>{Status::kRegistered, Status::kPending, Status::kQueued,
                                           Status::kAccepted, Status::kSent}));
  for (size_t i = 1; i < ds.size(); ++i) EXPECT_GT(ds[i].id, ds[i - 1].id);
  store_->Flush();
  std::lock_guard lock(mu_);
  EXPECT_EQ(observed_.size(), 5u) << "the observer hears of every committed delivery";
}

TEST_F(SqliteStoreTest, TheFirstMessageBindsTheContactToItsLine) {
  ASSERT_TRUE(store_->AddLine(Line{"+13125550190", account_.id, "sim", "{}", {}}).ok());
  EXPECT_EQ(store_->FindRoute(account_.id, "+14155550100").value(), std::nullopt);
  ASSERT_TRUE(Accept(NewMessage("first")).ok());
  EXPECT_EQ(store_->FindRoute(account_.id, "+14155550100").value(), "+12125550199");
  Message elsewhere = NewMessage("elsewhere");
  elsewhere.line_number = "+13125550190";
  auto refused = Accept(elsewhere);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("is bound to line +12125550199"), std::string::npos);
  EXPECT_FALSE(store_->FindMessage(account_.id, "elsewhere").ok()) << "nothing stored";
  EXPECT_EQ(store_->FindContact(account_.id, "+14155550100")->line, "+12125550199")
      << "the binding is visible on the contact";
}

TEST_F(SqliteStoreTest, AnInboundMessageBindsAnUnboundContact) {
  Message hello = NewMessage("in-hello");
  hello.contact = "+14155550177";
  hello.line_number = "+12125550199";
  std::promise<Result<Message>> p;
  store_->RecordInbound(hello, [&p](Result<Message> r) { p.set_value(std::move(r)); });
  ASSERT_TRUE(p.get_future().get().ok());
  EXPECT_EQ(store_->FindRoute(account_.id, "+14155550177").value(), "+12125550199");
}

TEST_F(SqliteStoreTest, AnOptedOutContactIsDeclinedAtAccept) {
  Message stop = NewMessage("in1");
  stop.is_outbound = false;
  stop.content = "STOP";
  std::promise<Result<Message>> p;
  store_->RecordInbound(stop, [&p](Result<Message> r) { p.set_value(std::move(r)); });
  auto inbound = p.get_future().get();
  ASSERT_TRUE(inbound.ok());
  EXPECT_EQ(inbound->status, Status::kReceived);
  EXPECT_TRUE(inbound->opted_out);
  auto m = Accept(NewMessage("h4"));
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->status, Status::kDeclined);
  EXPECT_TRUE(m->opted_out);
  ASSERT_TRUE(m->error);
  EXPECT_NE(m->error->message.find("opted out"), std::string::npos);
}

TEST_F(SqliteStoreTest, UnfinishedMessagesAndPendingDeliveriesSurviveReopening) {
  auto queued = Accept(NewMessage("q", "http://127.0.0.1:1/cb")).value();
  auto accepted = Accept(NewMessage("a")).value();
  ASSERT_TRUE(Move(accepted.id, Status::kAccepted).ok());
  auto sent = Accept(NewMessage("s")).value();
  ASSERT_TRUE(Move(sent.id, Status::kAccepted).ok());
  ASSERT_TRUE(Move(sent.id, Status::kSent, Service::kIMessage).ok());
  auto sms = Accept(NewMessage("sms")).value();
  ASSERT_TRUE(Move(sms.id, Status::kAccepted).ok());
  ASSERT_TRUE(Move(sms.id, Status::kSent, Service::kSms).ok());
  store_.reset();
  Open();
  std::vector<std::string> handles;
  for (const auto& m : store_->UnfinishedOutbound().value()) handles.push_back(m.handle);
  EXPECT_EQ(handles, (std::vector<std::string>{"q", "a", "s"})) << "SMS SENT is final";
  EXPECT_EQ(store_->PendingDeliveries()->size(), 3u);
}

TEST_F(SqliteStoreTest, RecordedAttemptsMoveDeliveriesOutOfPending) {
  auto m = Accept(NewMessage("h5", "http://127.0.0.1:1/cb")).value();
  auto pending = store_->PendingDeliveries().value();
  ASSERT_EQ(pending.size(), 3u);
  DeliveryAttempt a;
  a.delivery_id = pending[0].id;
  a.at = clock_.Now();
  a.http_status = 200;
  a.new_state = DeliveryState::kDelivered;
  std::promise<Result<Ok>> p;
  store_->RecordAttempt(a, [&p](Result<Ok> r) { p.set_value(std::move(r)); });
  ASSERT_TRUE(p.get_future().get().ok());
  DeliveryAttempt gone;
  gone.delivery_id = pending[1].id;
  gone.at = clock_.Now();
  gone.http_status = 410;
  gone.new_state = DeliveryState::kDisabled;
  std::promise<Result<Ok>> p2;
  store_->RecordAttempt(gone, [&p2](Result<Ok> r) { p2.set_value(std::move(r)); });
  ASSERT_TRUE(p2.get_future().get().ok());
  EXPECT_EQ(store_->PendingDeliveries()->size(), 1u);
  ASSERT_TRUE(Move(m.id, Status::kAccepted).ok());
  EXPECT_EQ(store_->DeliveriesForMessage(m.id)->size(), 3u)
      << "no new delivery to an endpoint that answered 410";
}

TEST_F(SqliteStoreTest, ManyConcurrentWritesAreGroupCommitted) {
  constexpr int kN = 2000;
  std::vector<std::promise<Result<Message>>> ps(kN);
  for (int i = 0; i < kN; ++i) {
    store_->Accept(NewMessage("bulk-" + std::to_string(i)), {},
                   [&ps, i](Result<Message> r) { ps[i].set_value(std::move(r)); });
  }
  for (auto& p : ps) ASSERT_TRUE(p.get_future().get().ok());
  MessageQuery q;
  q.account_id = account_.id;
  q.limit = 10;
  auto page = store_->ListMessages(q).value();
  EXPECT_EQ(page.total, kN);
  EXPECT_EQ(page.data.size(), 10u);
}

TEST_F(SqliteStoreTest, ADuplicateHandleFailsAloneWithoutHarmingTheBatch) {
  ASSERT_TRUE(Accept(NewMessage("dup")).ok());
  std::promise<Result<Message>> p1, p2;
  store_->Accept(NewMessage("dup"), {}, [&p1](Result<Message> r) { p1.set_value(std::move(r)); });
  store_->Accept(NewMessage("fine"), {}, [&p2](Result<Message> r) { p2.set_value(std::move(r)); });
  EXPECT_FALSE(p1.get_future().get().ok());
  EXPECT_TRUE(p2.get_future().get().ok());
  EXPECT_TRUE(store_->healthy());
}

TEST_F(SqliteStoreTest, PruningRemovesOldFinishedDeliveriesAndAttemptsOnly) {
  auto old = Accept(NewMessage("old", "http://127.0.0.1:1/cb")).value();
  auto pending = store_->PendingDeliveries().value();
  ASSERT_EQ(pending.size(), 3u);
  // Two finish (one after a failed attempt), one stays pending.
  for (int i = 0; i < 2; ++i) {
    if (i == 1) {
      DeliveryAttempt fail;
      fail.delivery_id = pending[i].id;
      fail.at = clock_.Now();
      fail.http_status = 500;
      fail.new_state = DeliveryState::kPending;
      fail.next_attempt_at = clock_.Now();
      std::promise<Result<Ok>> p;
      store_->RecordAttempt(fail, [&p](Result<Ok> r) { p.set_value(std::move(r)); });
      ASSERT_TRUE(p.get_future().get().ok());
    }
    DeliveryAttempt ok;
    ok.delivery_id = pending[i].id;
    ok.at = clock_.Now();
    ok.http_status = 200;
    ok.new_state = DeliveryState::kDelivered;
    ok.first_try_success = i == 0;
    std::promise<Result<Ok>> p;
    store_->RecordAttempt(ok, [&p](Result<Ok> r) { p.set_value(std::move(r)); });
    ASSERT_TRUE(p.get_future().get().ok());
  }
  DeliveryQuery q;
  q.message_handle = "old";
  auto log = store_->ListDeliveries(q).value();
  ASSERT_EQ(log.total, 3);
  clock_.Advance(std::chrono::hours(48));
  auto fresh = Accept(NewMessage("fresh", "http://127.0.0.1:1/cb")).value();
  (void)fresh;
  auto pruned = store_->PruneDeliveries(clock_.Now() - std::chrono::hours(24));
  ASSERT_TRUE(pruned.ok());
  EXPECT_EQ(pruned.value(), 4) << "two finished deliveries and their two attempt rows";
  auto left = store_->ListDeliveries(q).value();
  ASSERT_EQ(left.total, 1);
  EXPECT_EQ(left.data[0].state, DeliveryState::kPending) << "a pending delivery is never pruned";
  DeliveryQuery all;
  EXPECT_EQ(store_->ListDeliveries(all)->total, 4) << "the fresh message's deliveries stay";
  EXPECT_EQ(store_->PruneDeliveries(clock_.Now() - std::chrono::hours(24)).value(), 0);
}

TEST_F(SqliteStoreTest, ACommitFailureIsStickyAndNothingMoreIsAcknowledged) {
  ASSERT_TRUE(Accept(NewMessage("before")).ok());
  testing::SetVfsFailing(true);
  auto failed = Accept(NewMessage("during"));
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().kind, ErrorKind::kStorageFailure);
  EXPECT_FALSE(store_->healthy());
  testing::SetVfsFailing(false);
  // The disk works again, but the store cannot know what the failed commit left: it stays closed.
  auto after = Accept(NewMessage("after"));
  ASSERT_FALSE(after.ok());
  EXPECT_EQ(after.error().kind, ErrorKind::kStorageFailure);
  store_.reset();
  Open();
  EXPECT_TRUE(store_->healthy()) << "a restart recovers from the journal";
  EXPECT_TRUE(store_->FindMessage(account_.id, "before").ok());
  EXPECT_FALSE(store_->FindMessage(account_.id, "during").ok());
  EXPECT_TRUE(Accept(NewMessage("after-restart")).ok());
}

}  // namespace
}  // namespace bluegate::store
