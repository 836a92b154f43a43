#include "webhooks/dispatcher.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <boost/asio/executor_work_guard.hpp>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <future>
#include <map>
#include <set>
#include <thread>

#include "store/sqlite/sqlite_store.h"
#include "testing/fake_http_client.h"
#include "testing/manual_clock.h"
#include "testing/temp_dir.h"

namespace bluegate::webhooks {
namespace {

using namespace std::chrono;
namespace asio = boost::asio;

// The store's message reads, counted: what the dispatcher reads to render its bodies.
class CountedReads final : public store::MessageQueries {
 public:
  explicit CountedReads(store::MessageQueries*& store) : store_(store) {}
  std::atomic<int> single{0}, many{0}, ids{0};

  Result<Message> FindMessage(int64_t account_id, std::string_view handle) override {
    return store_->FindMessage(account_id, handle);
  }
  Result<Message> FindMessageById(int64_t id) override {
    ++single;
    return store_->FindMessageById(id);
  }
  Result<std::vector<Message>> FindMessagesByIds(const std::vector<int64_t>& list) override {
    ++many;
    ids += static_cast<int>(list.size());
    return store_->FindMessagesByIds(list);
  }
  Result<store::MessagePage> ListMessages(const store::MessageQuery& q) override {
    return store_->ListMessages(q);
  }
  Result<std::vector<Message>> InFlightOutbound(std::optional<std::string> line) override {
    return store_->InFlightOutbound(std::move(line));
  }
  Result<std::vector<Message>> QueuedPage(std::string_view line, bool first, int64_t after,
                                          int limit) override {
    return store_->QueuedPage(line, first, after, limit);
  }
  Result<std::map<std::string, store::QueuedCount>> QueuedByLine(
      std::optional<std::string> line) override {
    return store_->QueuedByLine(std::move(line));
  }
  Result<int64_t> CountSmsSince(std::string_view line, TimePoint since) override {
    return store_->CountSmsSince(line, since);
  }
  Result<std::vector<store::UnroutedInbound>> ListUnrouted(std::optional<std::string> line,
                                                           int limit) override {
    return store_->ListUnrouted(std::move(line), limit);
  }
  Result<std::vector<TimePoint>> NewContactStarts(std::string_view line, TimePoint since) override {
    return store_->NewContactStarts(line, since);
  }
  Result<store::AnnouncedEvents> AnnouncedEventsSince(int64_t after, int limit) override {
    return store_->AnnouncedEventsSince(after, limit);
  }

 private:
  store::MessageQueries*& store_;
};

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
    queries_ = store_.get();
    dispatcher_ = MakeDispatcher(io_, *store_, reads_, client_, clock_, metrics_, ds);
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

  // Accepts a message with a status_callback (REGISTERED, PENDING and QUEUED are written).
  int64_t AcceptWithCallback(const std::string& handle) {
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
    return p.get_future().get().value().id;
  }

  // `adjust` changes the report before it goes (another service, a receipt).
  void MoveTo(int64_t id, Status s,
              const std::function<void(store::TransitionRequest&)>& adjust = {}) {
    store::TransitionRequest r;
    r.message_id = id;
    r.to = s;
    r.at = clock_.Now();
    r.service = Service::kIMessage;
    r.source = "test";
    if (adjust) adjust(r);
    std::promise<Result<store::TransitionOutcome>> t;
    store_->Transition(r, [&t](Result<store::TransitionOutcome> o) { t.set_value(std::move(o)); });
    EXPECT_TRUE(t.get_future().get().ok());
  }

  // A message through all six statuses.
  int64_t SendWithCallback(const std::string& handle) {
    const int64_t id = AcceptWithCallback(handle);
    for (Status s : {Status::kAccepted, Status::kSent, Status::kDelivered}) MoveTo(id, s);
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
  store::MessageQueries* queries_ = nullptr;
  CountedReads reads_{queries_};
  store::Account account_;
  std::unique_ptr<Dispatcher> dispatcher_;
  std::thread runner_;
};

TEST_F(DispatcherTest, AfterTheReceiverWasDownForSixHoursItGetsEachMessagesNewestStatus) {
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
  EXPECT_EQ(metrics_.WebhookCount("failed"), 0u) << "nothing gave up within 6 hours";
  EXPECT_EQ(store_->PendingDeliveries()->size(), 36u) << "one waiting status per message";

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
  for (const auto& h : handles) {
    EXPECT_EQ(delivered[h], std::vector<std::string>{"DELIVERED"}) << h;
  }
  EXPECT_EQ(metrics_.WebhookCount("delivered"), 36u);
  EXPECT_EQ(metrics_.WebhookCount("superseded"), 36u * 5u) << "recorded, not lost";
}

// The statuses the receiver was sent, in the order it was sent them.
std::vector<Status> Sent(const std::vector<testing::FakeHttpClient::Request>& posts) {
  std::vector<Status> out;
  for (const auto& p : posts) {
    rapidjson::Document d;
    d.Parse(p.body.c_str());
    out.push_back(StatusFromName(d["status"].GetString()).value());
  }
  return out;
}

TEST_F(DispatcherTest, OneFailedStatusDoesNotHoldBackTheMessagesLaterOnes) {
  // The receiver chokes on REGISTERED alone, as a receiver with a bug in one branch does.
  client_.SetAnswer([](const testing::FakeHttpClient::Request& r) {
    return r.body.find("\"status\":\"REGISTERED\"") != std::string::npos ? 500 : 200;
  });
  SendWithCallback("held");
  SettleAt();
  const auto sent = Sent(client_.posts());
  ASSERT_FALSE(sent.empty());
  EXPECT_EQ(sent.front(), Status::kRegistered);
  EXPECT_EQ(sent.back(), Status::kDelivered) << "without waiting for REGISTERED's retry";
  EXPECT_TRUE(std::is_sorted(sent.begin(), sent.end())) << "never an older one after a newer";
  EXPECT_TRUE(store_->PendingDeliveries()->empty());
  store::DeliveryQuery q;
  q.state = store::DeliveryState::kSuperseded;
  auto superseded = store_->ListDeliveries(q).value();
  ASSERT_GE(superseded.total, 1);
  bool registered = false;
  for (const auto& r : superseded.data) {
    registered |= r.delivery.status == Status::kRegistered;
  }
  EXPECT_TRUE(registered) << "the failed one is recorded as superseded";
  for (int h = 0; h < 11; ++h) {
    clock_.Advance(hours(1));
    SettleAt();
  }
  EXPECT_EQ(Sent(client_.posts()), sent) << "REGISTERED is never retried after DELIVERED";
}

TEST_F(DispatcherTest, ANewStatusBehindOneWaitingForItsRetryGoesAtOnce) {
  std::atomic<bool> down{true};
  client_.SetAnswer([&down](const testing::FakeHttpClient::Request&) { return down ? 0 : 200; });
  const int64_t id = AcceptWithCallback("waits");
  SettleAt();
  ASSERT_EQ(store_->PendingDeliveries()->size(), 1u) << "QUEUED waits for its retry in 5 s";
  const size_t before = client_.posts().size();
  down = false;
  MoveTo(id, Status::kAccepted);
  SettleAt();  // the clock has not moved: nothing waited for a retry
  const auto posts = client_.posts();
  ASSERT_EQ(posts.size(), before + 1);
  EXPECT_EQ(Sent(posts).back(), Status::kAccepted);
  EXPECT_EQ(posts.back().status, 200);
  EXPECT_TRUE(store_->PendingDeliveries()->empty());
  clock_.Advance(seconds(10));
  SettleAt();
  EXPECT_EQ(client_.posts().size(), before + 1) << "QUEUED is not sent after ACCEPTED";
}

// Deliveries that become due together (here after the receiver's outage) read their messages in
// one query, not one each, and each body is still its own message's.
TEST_F(DispatcherTest, EachBodyShowsTheMessageAtItsOwnStatusWhenOneReadServesSeveral) {
  // The receiver holds the first callback until the message has reached DELIVERED over SMS, so
  // that one read of the message renders ACCEPTED, SENT and DELIVERED.
  std::promise<void> entered, release;
  auto gate = release.get_future().share();
  std::atomic<bool> first{true};
  client_.SetAnswer([&](const testing::FakeHttpClient::Request&) {
    if (first.exchange(false)) {
      entered.set_value();
      gate.wait();
    }
    return 200;
  });
  const TimePoint accepted_at = clock_.Now();
  const int64_t id = AcceptWithCallback("as-it-was");
  entered.get_future().wait();
  std::vector<TimePoint> at;
  for (Status s : {Status::kAccepted, Status::kSent, Status::kDelivered}) {
    clock_.Advance(seconds(1));
    at.push_back(clock_.Now());
    MoveTo(id, s, [s](store::TransitionRequest& r) {
      r.service.reset();  // the queue's ACCEPTED names no service
      if (s == Status::kSent || s == Status::kDelivered) r.service = Service::kSms;
      if (s == Status::kSent) r.was_downgraded = true;
      r.receipt = s == Status::kDelivered;  // an SMS moves on from SENT by its receipt
    });
  }
  store_->Flush();
  release.set_value();
  SettleAt();
  struct Seen {
    std::string status;
    bool downgraded;
    std::string updated;
  };
  std::vector<Seen> seen;
  for (const auto& p : client_.posts()) {
    rapidjson::Document doc;
    doc.Parse(p.body.c_str());
    seen.push_back({doc["status"].GetString(), doc["was_downgraded"].IsTrue(),
                    doc["date_updated"].GetString()});
  }
  ASSERT_EQ(seen.size(), 6u);
  EXPECT_EQ(reads_.single + reads_.ids, 2) << "one read before REGISTERED, one before ACCEPTED";
  const std::vector<std::string> statuses{"REGISTERED", "PENDING", "QUEUED",
                                          "ACCEPTED",   "SENT",    "DELIVERED"};
  for (size_t i = 0; i < 6; ++i) {
    EXPECT_EQ(seen[i].status, statuses[i]);
    EXPECT_EQ(seen[i].downgraded, i >= 4) << statuses[i] << ": downgraded from SENT on";
    EXPECT_EQ(seen[i].updated, FormatIso8601(i < 3 ? accepted_at : at[i - 3])) << statuses[i];
  }
}

TEST_F(DispatcherTest, DeliveriesThatGoTogetherReadTheirMessagesTogether) {
  std::atomic<bool> down{true};
  client_.SetAnswer([&down](const testing::FakeHttpClient::Request&) { return down ? 0 : 200; });
  std::vector<std::string> handles;
  for (int i = 0; i < 40; ++i) {
    handles.push_back("together-" + std::to_string(i));
    SendWithCallback(handles.back());
  }
  SettleAt();
  ASSERT_EQ(store_->PendingDeliveries()->size(), 40u) << "each message's DELIVERED waits";
  reads_.single = reads_.many = reads_.ids = 0;
  const size_t before = client_.posts().size();
  down = false;
  clock_.Advance(hours(1));
  SettleAt();
  EXPECT_TRUE(store_->PendingDeliveries()->empty());
  EXPECT_EQ(reads_.single.load(), 0) << "no message read on its own";
  EXPECT_EQ(reads_.ids.load(), 40);
  EXPECT_EQ(reads_.many.load(), 2) << "40 sends, a read for 32 and one for the rest (cap 32)";
  const auto posts = client_.posts();
  std::set<std::string> delivered;
  for (size_t i = before; i < posts.size(); ++i) {
    rapidjson::Document d;
    d.Parse(posts[i].body.c_str());
    EXPECT_EQ(std::string(d["status"].GetString()), "DELIVERED");
    delivered.insert(d["message_handle"].GetString());
  }
  EXPECT_EQ(delivered, std::set<std::string>(handles.begin(), handles.end()));
}

TEST_F(DispatcherTest, RetriesFollowTheScheduleToTheMillisecondAndThenGiveUp) {
  client_.SetAnswer([](const testing::FakeHttpClient::Request&) { return 503; });
  SendWithCallback("doomed");
  SettleAt();
  // Every earlier status gave way to DELIVERED, which is attempted exactly when the schedule
  // says: at once, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h after each failure.
  const std::vector<Millis> gaps{seconds(5), minutes(5), minutes(30), hours(2),
                                 hours(5),   hours(10),  hours(10)};
  size_t seen = client_.posts().size();
  ASSERT_GE(seen, 2u);
  EXPECT_EQ(Sent(client_.posts()).back(), Status::kDelivered);
  const size_t first = seen;
  for (const auto gap : gaps) {
    clock_.Advance(gap - milliseconds(1));
    SettleAt();
    EXPECT_EQ(client_.posts().size(), seen) << "not a millisecond early";
    clock_.Advance(milliseconds(1));
    SettleAt();
    EXPECT_EQ(client_.posts().size(), seen + 1);
    seen = client_.posts().size();
  }
  clock_.Advance(hours(24));
  SettleAt();
  EXPECT_EQ(client_.posts().size(), first + 7) << "eight attempts in all, then it gives up";
  EXPECT_EQ(metrics_.WebhookCount("failed"), 1u);
  const auto sent = Sent(client_.posts());
  for (size_t i = first - 1; i < sent.size(); ++i) EXPECT_EQ(sent[i], Status::kDelivered);
  EXPECT_TRUE(store_->PendingDeliveries()->empty());
}

}  // namespace
}  // namespace bluegate::webhooks
