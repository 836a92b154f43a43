#include "core/event_hub.h"

#include <gtest/gtest.h>

namespace bluegate {
namespace {

TEST(EventHubTest, SubscribersGetTheirAccountsEventsOfTheTypesTheyAskedFor) {
  EventHub hub;
  EXPECT_FALSE(hub.Listening(1));
  int wakes = 0;
  auto all = hub.Subscribe(1, {}, [&wakes] { ++wakes; });
  auto received = hub.Subscribe(1, {"message.received"}, nullptr);
  auto other = hub.Subscribe(2, {}, nullptr);
  EXPECT_TRUE(hub.Listening(1));
  hub.Publish(1, "message.created", R"({"n":1})", FromUnixMillis(0));
  hub.Publish(1, "message.received", R"({"n":2})", FromUnixMillis(0));
  auto frames = all->Take();
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0],
            "id: 1\nevent: message.created\ndata: {\"id\":\"1\",\"type\":\"message.created\","
            "\"version\":1,\"occurred_at\":\"1970-01-01T00:00:00.000Z\",\"data\":{\"n\":1}}\n\n");
  EXPECT_EQ(wakes, 2);
  EXPECT_EQ(received->Take().size(), 1u) << "only the type it asked for";
  EXPECT_TRUE(other->Take().empty()) << "never another account's";
  EXPECT_TRUE(all->Take().empty()) << "taken once";

  hub.Unsubscribe(all);
  hub.Unsubscribe(received);
  EXPECT_FALSE(hub.Listening(1));
  hub.Publish(1, "message.created", "{}", FromUnixMillis(0));
  EXPECT_TRUE(all->Take().empty());
}

TEST(EventHubTest, AnAccountHoldsAtMostItsStreams) {
  EventHub hub(EventHubLimits{2, 10});
  auto a = hub.Subscribe(1, {}, nullptr);
  auto b = hub.Subscribe(1, {}, nullptr);
  EXPECT_TRUE(a && b);
  EXPECT_EQ(hub.Subscribe(1, {}, nullptr), nullptr) << "the third stream of account 1";
  EXPECT_NE(hub.Subscribe(2, {}, nullptr), nullptr) << "another account is not affected";
  hub.Unsubscribe(a);
  EXPECT_NE(hub.Subscribe(1, {}, nullptr), nullptr) << "a closed stream frees its place";
}

TEST(EventHubTest, AnEndedStreamWakesItsConnectionToClose) {
  EventHub hub;
  int wakes = 0;
  auto s = hub.Subscribe(1, {}, nullptr);
  s->SetWake([&wakes] { ++wakes; });
  EXPECT_FALSE(s->closed());
  s->End();
  EXPECT_TRUE(s->closed());
  EXPECT_FALSE(s->overflowed()) << "ended, not overflowed";
  EXPECT_EQ(wakes, 1);
}

TEST(EventHubTest, AStreamThatDoesNotReadOverflowsInsteadOfGrowing) {
  EventHub hub(EventHubLimits{10, 3});
  int wakes = 0;
  auto s = hub.Subscribe(1, {}, nullptr);
  s->SetWake([&wakes] { ++wakes; });
  for (int i = 0; i < 3; ++i) hub.Publish(1, "message.created", "{}", FromUnixMillis(0));
  EXPECT_FALSE(s->overflowed());
  hub.Publish(1, "message.created", "{}", FromUnixMillis(0));
  EXPECT_TRUE(s->overflowed());
  EXPECT_TRUE(s->closed());
  EXPECT_TRUE(s->Take().empty()) << "what waited is dropped";
  EXPECT_EQ(wakes, 4) << "the overflow wakes the connection so that it closes";
  hub.Publish(1, "message.created", "{}", FromUnixMillis(0));
  EXPECT_TRUE(s->Take().empty()) << "nothing more is queued";
}

}  // namespace
}  // namespace bluegate
