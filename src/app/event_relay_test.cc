// Events an admin command's process writes (it has no event stream) reach the subscribers of a
// running server within its poll, once each, and nothing written before the server started.
#include "app/event_relay.h"

#include <gtest/gtest.h>

#include <future>

#include "store/sqlite/sqlite_store.h"
#include "testing/manual_clock.h"
#include "testing/manual_timers.h"
#include "testing/temp_dir.h"

namespace bluegate::app {
namespace {

class EventRelayTest : public ::testing::Test {
 protected:
  EventRelayTest() : dir_("event-relay"), timers_(clock_) {
    store::SqliteSettings s;
    s.path = dir_.File("bluegate.db");
    server_ = store::MakeSqliteStore(s, clock_);
    server_->SetDeliveryObserver([](std::vector<store::Delivery>) {});  // a server's store
    admin_ = store::MakeSqliteStore(s, clock_);                         // an admin command's
    account_ = server_->CreateAccount("a@example.com", "blue").value().id;
    EXPECT_TRUE(server_->AddLine(store::Line{"+12125550199", account_, "sim", "{}", {}}).ok());
    frames_ = hub_.Subscribe(account_, {}, [] {});
  }

  // An inbound message stored by `s`, as `bluegate sim inbound` stores one.
  Message Receive(store::Store& s, const std::string& handle,
                  const std::string& from = "+14155550100") {
    Message m;
    m.handle = handle;
    m.account_id = account_;
    m.line_number = "+12125550199";
    m.contact = from;
    m.content = "hello from " + handle;
    m.date_created = m.date_updated = clock_.Now();
    std::promise<Result<Message>> p;
    s.RecordInbound(m, [&p](Result<Message> r) { p.set_value(std::move(r)); });
    return p.get_future().get().value();
  }

  void Tick() {
    timers_.Advance(std::chrono::seconds(1), [] {});
  }

  testing::TempDir dir_;
  testing::ManualClock clock_;
  testing::ManualTimers timers_;
  std::unique_ptr<store::Store> server_, admin_;
  int64_t account_ = 0;
  EventHub hub_;
  std::shared_ptr<EventSubscription> frames_;
};

TEST_F(EventRelayTest, AnAdminCommandsInboundReachesTheServersStreamOnce) {
  Receive(*admin_, "before-start",
          "+14155550111");  // written before the server started: not replayed
  EventRelay relay(*server_, hub_, timers_, clock_, [](std::function<void()> fn) { fn(); });
  ASSERT_TRUE(relay.Start(std::chrono::seconds(1)).ok());
  Receive(*admin_, "cli-1");
  EXPECT_TRUE(frames_->Take().empty()) << "published only by the server's poll";
  Tick();
  auto frames = frames_->Take();
  ASSERT_EQ(frames.size(), 2u) << "the message and the contact it created";
  EXPECT_NE(frames[0].find("event: contact.created"), std::string::npos) << frames[0];
  EXPECT_NE(frames[1].find("event: message.received"), std::string::npos) << frames[1];
  EXPECT_NE(frames[1].find("hello from cli-1"), std::string::npos);
  Tick();
  EXPECT_TRUE(frames_->Take().empty()) << "each event once";
}

TEST_F(EventRelayTest, TheServersOwnInboundIsNotWrittenForTheRelay) {
  Receive(*server_, "carrier-1");  // the queue publishes these itself, having heard the carrier
  EXPECT_EQ(server_->AnnouncedEventsSince(0, 10)->newest, 0);
  Receive(*admin_, "cli-2");
  auto written = server_->AnnouncedEventsSince(0, 10).value();
  ASSERT_EQ(written.events.size(), 1u) << "the contact already existed: the message alone";
  EXPECT_EQ(written.events[0].type, "message.received");
  EXPECT_EQ(written.events[0].account_id, account_);
}

TEST_F(EventRelayTest, WrittenEventsAreForgottenAfterFiveMinutes) {
  Receive(*admin_, "old");
  clock_.Set(clock_.Now() + std::chrono::minutes(6));
  Receive(*admin_, "new");  // each write drops what every node has long read
  auto written = server_->AnnouncedEventsSince(0, 10).value();
  ASSERT_EQ(written.events.size(), 1u);
  EXPECT_NE(written.events[0].data.find("hello from new"), std::string::npos);
}

}  // namespace
}  // namespace bluegate::app
