#include "webhooks/dispatcher.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <boost/asio/executor_work_guard.hpp>

#include <filesystem>
#include <future>
#include <map>
#include <thread>

#include "store/sqlite/sqlite_store.h"
#include "testing/fake_http_client.h"
#include "testing/manual_clock.h"
#include "testing/temp_dir.h"

namespace bluegate::webhooks {
namespace {

using namespace std::chrono;
namespace asio = boost::asio;

// The dispatcher against the real SQLite store and a scripted receiver, on a manual clock: hours
// of retry schedule pass in milliseconds.
class DispatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store::SqliteSettings s;
    s.path = dir_.File("test.db");
    store_ = store::MakeSqliteStore(s, clock_);
    account_ = store_->CreateAccount("a@example.com", "blue").value();
    DispatcherSettings ds;
    ds.requeue_poll = hours(1000);
    ds.prune_every = hours(1000);
    dispatcher_ = MakeDispatcher(io_, *store_, *store_, client_, clock_, metrics_, ds);
    store_->SetDeliveryObserver(
        [d = dispatcher_.get()](std::vector<store::Delivery> v) { d->Add(std::move(v)); });
    dispatcher_->Start();
    runner_ = std::thread([this] { io_.run(); });
  }

  void TearDown() override {
    store_->Flush();
    work_.reset();
    io_.stop();
    runner_.join();
    dispatcher_.reset();
    store_.reset();
  }

  int64_t SendWithCallback(const std::string& handle) {
    Message m;
    m.handle = handle;
    m.account_id = account_.id;
    m.line_number = "+12125550199";
    m.contact = "+14155550100";
    m.content = "hello";
    m.status = Status::kQueued;
    m.status_callback = "http://receiver.test/cb";
    m.date_created = m.date_updated = clock_.Now();
    std::promise<Result<Message>> p;
    store_->Accept(m, {}, [&p](Result<Message> r) { p.set_value(std::move(r)); });
    const int64_t id = p.get_future().get().value().id;
    for (Status s : {Status::kAccepted, Status::kSent, Status::kDelivered}) {
      store::TransitionRequest r;
      r.message_id = id;
      r.to = s;
      r.at = clock_.Now();
      r.service = Service::kIMessage;
      r.source = "test";
      std::promise<Result<store::TransitionOutcome>> t;
      store_->Transition(r,
                         [&t](Result<store::TransitionOutcome> o) { t.set_value(std::move(o)); });
      EXPECT_TRUE(t.get_future().get().ok());
    }
    return id;
  }

  // Waits (for the dispatcher's thread, not for time) until everything due at the manual
  // clock's now has been attempted and recorded.
  void SettleAt() {
    dispatcher_->Kick().get();
    const auto deadline = steady_clock::now() + seconds(20);
    while (dispatcher_->in_progress() > 0) {
      ASSERT_LT(steady_clock::now(), deadline)
          << dispatcher_->in_progress() << " still in progress";
      std::this_thread::yield();
    }
    store_->Flush();
  }

  testing::TempDir dir_{"dispatcher-test"};
  testing::ManualClock clock_;
  Metrics metrics_;
  testing::FakeHttpClient client_;
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_ = asio::make_work_guard(io_);
  std::unique_ptr<store::Store> store_;
  store::Account account_;
  std::unique_ptr<Dispatcher> dispatcher_;
  std::thread runner_;
};

TEST_F(DispatcherTest, EveryEventArrivesInOrderAfterTheReceiverWasDownForSixHours) {
  std::atomic<bool> down{true};
  client_.SetAnswer([&down](const testing::FakeHttpClient::Request&) { return down ? 0 : 200; });
  // Messages keep flowing while the receiver is down: one every 10 minutes for 6 hours.
  std::vector<std::string> handles;
  for (int i = 0; i < 36; ++i) {
    handles.push_back("msg-" + std::to_string(i));
    SendWithCallback(handles.back());
    clock_.Advance(minutes(10));
    SettleAt();
  }
  const auto tries = client_.posts();
  EXPECT_GT(tries.size(), 36u * 3u) << "each message's first event was retried on the schedule";
  for (const auto& p : tries) {
    EXPECT_EQ(p.status, 0);
    // In order: while REGISTERED has not arrived, nothing later about that message is sent.
    EXPECT_NE(p.body.find("\"status\":\"REGISTERED\""), std::string::npos);
  }
  EXPECT_EQ(metrics_.WebhookCount("failed"), 0u) << "nothing gave up within 6 hours";

  down = false;
  for (int h = 0; h < 11; ++h) {  // the longest wait of the schedule is 10 hours
    clock_.Advance(hours(1));
    SettleAt();
  }
  EXPECT_TRUE(store_->PendingDeliveries()->empty());
  std::map<std::string, std::vector<std::string>> delivered;
  for (const auto& p : client_.posts()) {
    if (p.status != 200) continue;
    rapidjson::Document d;
    d.Parse(p.body.c_str());
    delivered[d["message_handle"].GetString()].push_back(d["status"].GetString());
  }
  const std::vector<std::string> full{"REGISTERED", "PENDING", "QUEUED",
                                      "ACCEPTED",   "SENT",    "DELIVERED"};
  for (const auto& h : handles) EXPECT_EQ(delivered[h], full) << h;
  EXPECT_EQ(metrics_.WebhookCount("delivered"), 36u * 6u);
}

TEST_F(DispatcherTest, RetriesFollowTheScheduleToTheMillisecondAndThenGiveUp) {
  client_.SetAnswer([](const testing::FakeHttpClient::Request&) { return 503; });
  SendWithCallback("doomed");
  SettleAt();
  // The first event (REGISTERED) is attempted exactly when the schedule says: at once, then
  // 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h after each failure; the later events wait.
  const std::vector<Millis> gaps{seconds(5), minutes(5), minutes(30), hours(2),
                                 hours(5),   hours(10),  hours(10)};
  size_t seen = client_.posts().size();
  EXPECT_EQ(seen, 1u);
  for (const auto gap : gaps) {
    clock_.Advance(gap - milliseconds(1));
    SettleAt();
    EXPECT_EQ(client_.posts().size(), seen) << "not a millisecond early";
    clock_.Advance(milliseconds(1));
    SettleAt();
    EXPECT_GT(client_.posts().size(), seen);
    seen = client_.posts().size();
  }
  SettleAt();
  // Eight attempts, then it gives up, and the next event (PENDING) goes at once.
  EXPECT_EQ(seen, 9u);
  EXPECT_EQ(metrics_.WebhookCount("failed"), 1u);
  const auto posts = client_.posts();
  for (size_t i = 0; i < 8; ++i)
    EXPECT_NE(posts[i].body.find("\"status\":\"REGISTERED\""), std::string::npos);
  EXPECT_NE(posts[8].body.find("\"status\":\"PENDING\""), std::string::npos);
  EXPECT_EQ(store_->PendingDeliveries()->size(), 5u);
}

}  // namespace
}  // namespace bluegate::webhooks
