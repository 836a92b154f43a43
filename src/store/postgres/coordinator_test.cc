// The scale-out coordinator on a real PostgreSQL server: leases, heartbeats, orphan deliveries
// and notifications between nodes.
#include "store/postgres/coordinator.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <condition_variable>
#include <future>
#include <mutex>

#include "store/postgres/postgres_store.h"
#include "testing/manual_clock.h"
#include "testing/postgres.h"

namespace bluegate::store {
namespace {

constexpr Millis kLong{60000};
constexpr Millis kLapsed{0};  // a lease or heartbeat that has lapsed by the next statement

class CoordinatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = Open("");
    account_ = store_->CreateAccount("a@example.com", "blue").value();
    for (const char* n : {"+12125550101", "+12125550102", "+12125550103", "+12125550104"}) {
      ASSERT_TRUE(store_->AddLine(Line{n, account_.id, "sim", "{}", {}}).ok());
    }
  }

  std::unique_ptr<Store> Open(const std::string& node) {
    PostgresSettings s;
    s.url = schema_.url();
    s.node_id = node;
    return MakePostgresStore(s, clock_);
  }

  std::unique_ptr<Coordinator> Node(const std::string& id) {
    return MakeCoordinator(schema_.url(), id, "127.0.0.1:1");
  }

  static std::vector<std::string> Sorted(std::vector<std::string> v) {
    std::sort(v.begin(), v.end());
    return v;
  }

  testing::PostgresSchema schema_;
  testing::ManualClock clock_;
  std::unique_ptr<Store> store_;
  Account account_;
};

TEST_F(CoordinatorTest, ALineIsLeasedToOneNodeUntilItIsGivenBack) {
  auto a = Node("a");
  auto b = Node("b");
  ASSERT_TRUE(a->Heartbeat(kLong).ok());
  ASSERT_EQ(b->Heartbeat(kLong)->size(), 2u);
  auto got = a->Acquire(4, kLong).value();
  EXPECT_EQ(got.size(), 4u);
  EXPECT_TRUE(b->Acquire(4, kLong)->empty()) << "every line is held";
  ASSERT_TRUE(a->Release({"+12125550101", "+12125550102"}).ok());
  EXPECT_EQ(Sorted(b->Acquire(4, kLong).value()),
            (std::vector<std::string>{"+12125550101", "+12125550102"}));
  EXPECT_EQ(a->Renew(kLong).value(), (std::vector<std::string>{"+12125550103", "+12125550104"}));
  EXPECT_EQ(b->Renew(kLong).value(), (std::vector<std::string>{"+12125550101", "+12125550102"}));
  auto leases = a->Leases().value();
  ASSERT_EQ(leases.size(), 4u);
  for (const auto& l : leases) {
    EXPECT_TRUE(l.live);
    EXPECT_EQ(l.node_id, l.line < "+12125550103" ? "b" : "a") << l.line;
  }
}

TEST_F(CoordinatorTest, ALapsedLeaseGoesToAnotherNodeAndCannotBeRenewed) {
  auto a = Node("a");
  auto b = Node("b");
  ASSERT_EQ(a->Acquire(2, kLapsed)->size(), 2u);
  EXPECT_EQ(b->Acquire(4, kLong)->size(), 4u) << "two free lines and two lapsed ones";
  EXPECT_TRUE(a->Renew(kLong)->empty()) << "a lapsed lease is not a's any more";
  EXPECT_TRUE(a->Acquire(4, kLong)->empty());
}

TEST_F(CoordinatorTest, TwoLiveNodesCannotShareAName) {
  auto first = Node("same");
  auto second = Node("same");
  ASSERT_TRUE(first->Heartbeat(kLong).ok());
  auto refused = second->Heartbeat(kLong);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().kind, ErrorKind::kConflict);
  EXPECT_NE(refused.error().message.find("--node-id"), std::string::npos);
  EXPECT_TRUE(first->Heartbeat(kLong).ok()) << "the first keeps its name";
}

TEST_F(CoordinatorTest, TheDeliveriesOfAGoneNodeAreClaimedOnceEach) {
  auto a_store = Open("a");
  Message m;
  m.handle = "h1";
  m.account_id = account_.id;
  m.line_number = "+12125550101";
  m.contact = "+14155552001";
  m.content = "hi";
  m.status_callback = "http://127.0.0.1:1/cb";
  m.date_created = m.date_updated = clock_.Now();
  std::promise<Result<Message>> done;
  a_store->Accept(m, {}, [&done](Result<Message> r) { done.set_value(std::move(r)); });
  const auto stored = done.get_future().get();
  ASSERT_TRUE(stored.ok()) << stored.error().message;
  EXPECT_EQ(a_store->PendingDeliveries()->size(), 3u) << "node a's own deliveries";
  EXPECT_TRUE(store_->PendingDeliveries()->empty()) << "not a process without a node's";

  auto a = Node("a");
  auto b = Node("b");
  auto c = Node("c");
  ASSERT_TRUE(a->Heartbeat(kLong).ok());
  ASSERT_TRUE(b->Heartbeat(kLong).ok());
  EXPECT_TRUE(b->ClaimOrphanDeliveries(100)->empty()) << "a is alive: its deliveries are its";
  ASSERT_TRUE(a->Heartbeat(kLapsed).ok());  // a's heartbeat lapses: a is gone
  ASSERT_TRUE(c->Heartbeat(kLong).ok());
  auto claimed = b->ClaimOrphanDeliveries(100).value();
  ASSERT_EQ(claimed.size(), 3u);
  EXPECT_LT(claimed[0].id, claimed[1].id) << "in creation order";
  EXPECT_EQ(claimed[0].owner, "b");
  EXPECT_TRUE(c->ClaimOrphanDeliveries(100)->empty()) << "each delivery goes to one node";
  EXPECT_TRUE(b->ClaimOrphanDeliveries(100)->empty()) << "and once";
}

TEST_F(CoordinatorTest, AnAcceptsDeliveriesAreTheNodesHoldingItsLineOrElseTheAcceptingNodes) {
  auto a = Node("a");
  auto b = Node("b");
  ASSERT_TRUE(a->Heartbeat(kLong).ok());
  ASSERT_TRUE(b->Heartbeat(kLong).ok());
  ASSERT_EQ(a->Acquire(4, kLong)->size(), 4u);
  ASSERT_TRUE(a->Release({"+12125550101", "+12125550102", "+12125550104"}).ok());
  ASSERT_EQ(b->Acquire(2, kLong)->size(), 2u);  // of the three free, two
  std::vector<std::string> b_lines = b->Renew(kLong).value();
  ASSERT_EQ(b_lines.size(), 2u);
  // Accepted by node c, which holds nothing: four messages, one per line, queued at once.
  auto c_store = Open("c");
  std::vector<std::promise<Result<Message>>> done(4);
  const char* lines[] = {"+12125550101", "+12125550102", "+12125550103", "+12125550104"};
  for (int i = 0; i < 4; ++i) {
    Message m;
    m.handle = std::string("owned-") + lines[i];
    m.account_id = account_.id;
    m.line_number = lines[i];
    m.contact = "+1415555300" + std::to_string(i);
    m.content = "hi";
    m.status_callback = "http://127.0.0.1:1/cb";
    m.date_created = m.date_updated = clock_.Now();
    c_store->Accept(m, {}, [&done, i](Result<Message> r) { done[i].set_value(std::move(r)); });
  }
  for (auto& d : done) ASSERT_TRUE(d.get_future().get().ok());
  auto lines_of = [](const std::vector<Delivery>& ds, Store& s) {
    std::vector<std::string> out;
    for (const Delivery& d : ds) out.push_back(s.FindMessageById(d.message_id)->line_number);
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
  };
  auto a_store = Open("a");
  auto b_store = Open("b");
  const auto of_a = a_store->PendingDeliveries().value();
  const auto of_b = b_store->PendingDeliveries().value();
  const auto of_c = c_store->PendingDeliveries().value();
  EXPECT_EQ(lines_of(of_a, *a_store), (std::vector<std::string>{"+12125550103"}));
  EXPECT_EQ(lines_of(of_b, *b_store), Sorted(b_lines));
  std::vector<std::string> free_lines;
  for (const char* l : {"+12125550101", "+12125550102", "+12125550104"}) {
    if (std::find(b_lines.begin(), b_lines.end(), l) == b_lines.end()) free_lines.push_back(l);
  }
  EXPECT_EQ(lines_of(of_c, *c_store), free_lines) << "a line no node holds: the accepting node's";
  EXPECT_EQ(of_a.size() + of_b.size() + of_c.size(), 12u) << "three deliveries per message";
}

// Not the coordinator's own, but what it makes possible: two nodes accepting first messages to
// one contact from two lines at once. The contact is bound to one line; the other send fails.
TEST_F(CoordinatorTest, TwoNodesRacingToBindAContactCannotBothWin) {
  auto a = Open("a");
  auto b = Open("b");
  auto first_message = [this](int i, const char* line) {
    Message m;
    m.handle = std::string(line) + "-" + std::to_string(i);
    m.account_id = account_.id;
    m.line_number = line;
    m.contact = "+1415555" + std::to_string(4000 + i);
    m.content = "hi";
    m.date_created = m.date_updated = clock_.Now();
    return m;
  };
  for (int i = 0; i < 40; ++i) {
    std::promise<Result<Message>> pa, pb;
    a->Accept(first_message(i, "+12125550101"), {},
              [&pa](Result<Message> r) { pa.set_value(std::move(r)); });
    b->Accept(first_message(i, "+12125550102"), {},
              [&pb](Result<Message> r) { pb.set_value(std::move(r)); });
    const auto ra = pa.get_future().get();
    const auto rb = pb.get_future().get();
    ASSERT_NE(ra.ok(), rb.ok()) << "contact " << i << ": exactly one line gets it";
    const auto& lost = ra.ok() ? rb : ra;
    EXPECT_NE(lost.error().message.find("+1212555010"), std::string::npos) << lost.error().message;
    const auto route = store_->FindRoute(account_.id, first_message(i, "").contact).value();
    ASSERT_TRUE(route);
    EXPECT_EQ(*route, ra.ok() ? "+12125550101" : "+12125550102");
  }
  EXPECT_TRUE(a->healthy());
  EXPECT_TRUE(b->healthy());
}

TEST_F(CoordinatorTest, NotificationsReachTheOtherNodesButNotTheSender) {
  auto a = Node("a");
  auto b = Node("b");
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::pair<std::string, int64_t>> queued_at_b;
  std::vector<int64_t> deliveries_at_b;
  std::vector<int64_t> heard_by_a;
  b->Listen(
      [&](const std::string& line, int64_t id) {
        std::lock_guard lock(mu);
        queued_at_b.emplace_back(line, id);
        cv.notify_all();
      },
      [&](int64_t id) {
        std::lock_guard lock(mu);
        deliveries_at_b.push_back(id);
        cv.notify_all();
      });
  a->Listen(
      [&](const std::string&, int64_t id) {
        std::lock_guard lock(mu);
        heard_by_a.push_back(id);
      },
      [&](int64_t id) {
        std::lock_guard lock(mu);
        heard_by_a.push_back(id);
      });
  // The listeners connect in the background: notify until b hears.
  std::unique_lock lock(mu);
  for (int i = 0; i < 200 && queued_at_b.empty(); ++i) {
    lock.unlock();
    a->Notify("+12125550101", 42);
    a->NotifyDeliveries("b", 7);
    a->NotifyDeliveries("c", 8);  // for another node: b ignores it
    lock.lock();
    cv.wait_for(lock, std::chrono::milliseconds(50), [&] { return !queued_at_b.empty(); });
  }
  cv.wait_for(lock, std::chrono::seconds(5), [&] { return !deliveries_at_b.empty(); });
  ASSERT_FALSE(queued_at_b.empty());
  EXPECT_EQ(queued_at_b[0], (std::pair<std::string, int64_t>{"+12125550101", 42}));
  ASSERT_FALSE(deliveries_at_b.empty());
  EXPECT_TRUE(std::all_of(deliveries_at_b.begin(), deliveries_at_b.end(),
                          [](int64_t id) { return id == 7; }));
  EXPECT_TRUE(heard_by_a.empty()) << "a node's own notifications are not for it";
}

}  // namespace
}  // namespace bluegate::store
