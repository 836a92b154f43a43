// The store's messages, once for each engine: every TEST_P runs on SQLite and on PostgreSQL.
// (Contacts and lines: store_contacts_test.cc; webhooks: store_webhooks_test.cc.)
#include <gtest/gtest.h>

#include "store/sql/store_fixture.h"

namespace bluegate::store {
namespace {

using testing_support::EngineName;
using testing_support::EveryEngine;

class StoreTest : public testing_support::EngineStoreTest {};
INSTANTIATE_TEST_SUITE_P(Engines, StoreTest, EveryEngine(), EngineName);

TEST_P(StoreTest, AcceptedMessagesAreReadBack) {
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

TEST_P(StoreTest, TransitionsMoveForwardAndLateReportsAreIgnored) {
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

TEST_P(StoreTest, AConversationsHistoryIsFoundBeforeAndAfterItIsFiled) {
  auto to = [this](const char* handle, const char* contact) {
    Message m = NewMessage(handle);
    m.contact = contact;
    m.date_created = clock_.Now();
    ASSERT_TRUE(Accept(m).ok());
    clock_.Advance(Millis(10));
  };
  auto history = [this](const char* contact) {
    MessageQuery q;
    q.account_id = account_.id;
    q.number = contact;
    std::vector<std::string> handles;
    auto page = store_->ListMessages(q).value();
    for (const auto& m : page.data) handles.push_back(m.handle);
    EXPECT_EQ(page.total, static_cast<int64_t>(handles.size()));
    return handles;
  };
  to("a1", "+14155550101");
  to("b1", "+14155550102");
  to("a2", "+14155550101");
  // Not filed yet (the filing runs at most every half second): found among the newest.
  EXPECT_EQ(history("+14155550101"), (std::vector<std::string>{"a2", "a1"}));
  clock_.Advance(std::chrono::seconds(1));
  to("b2", "+14155550102");  // the write after which the filing runs
  store_->Flush();
  clock_.Advance(std::chrono::seconds(1));
  to("a3", "+14155550101");
  store_->Flush();
  EXPECT_EQ(history("+14155550101"), (std::vector<std::string>{"a3", "a2", "a1"}))
      << "filed and unfiled messages together, once each";
  EXPECT_EQ(history("+14155550102"), (std::vector<std::string>{"b2", "b1"}));
  EXPECT_TRUE(history("+14155550109").empty());
}

TEST_P(StoreTest, HistoryPagesThroughALargeStoreByContactAndStatus) {
  // 20,000 messages over 100 contacts, filed and unfiled: every page of a contact's history is
  // the next slice of one newest-first order, and totals agree with the filters.
  std::vector<std::promise<Result<Message>>> done(20'000);
  for (int i = 0; i < 20'000; ++i) {
    Message m = NewMessage("bulk-history-" + std::to_string(i));
    m.contact = "+1415555" + std::to_string(1000 + i % 100);
    m.date_created = clock_.Now() + Millis(i);
    m.date_updated = m.date_created;
    if (i == 10'000) clock_.Advance(std::chrono::seconds(1));  // a filing runs midway
    store_->Accept(m, {}, [&done, i](Result<Message> r) { done[i].set_value(std::move(r)); });
  }
  for (auto& d : done) ASSERT_TRUE(d.get_future().get().ok());
  MessageQuery q;
  q.account_id = account_.id;
  q.number = "+14155551042";
  q.limit = 30;
  std::vector<std::string> seen;
  for (q.offset = 0; q.offset < 250; q.offset += 30) {
    auto page = store_->ListMessages(q).value();
    EXPECT_EQ(page.total, 200);
    for (const auto& m : page.data) seen.push_back(m.handle);
  }
  ASSERT_EQ(seen.size(), 200u);
  for (size_t i = 0; i < seen.size(); ++i) {
    EXPECT_EQ(seen[i], "bulk-history-" + std::to_string(19'942 - 100 * static_cast<int>(i)));
  }
  q.offset = 0;
  q.status = Status::kDelivered;
  EXPECT_EQ(store_->ListMessages(q)->total, 0);
  q.status = Status::kQueued;
  EXPECT_EQ(store_->ListMessages(q)->total, 200);
}

TEST_P(StoreTest, RetentionDeletesOnlyFinishedMessagesWhoseWebhooksAreDone) {
  auto done = Accept(NewMessage("old-delivered")).value();
  for (Status s : {Status::kAccepted, Status::kSent, Status::kDelivered}) {
    ASSERT_TRUE(Move(done.id, s, Service::kIMessage).ok());
  }
  auto waiting = Accept(NewMessage("old-queued")).value();
  auto calling = Accept(NewMessage("old-with-callback", "http://receiver.test/cb")).value();
  for (Status s : {Status::kAccepted, Status::kSent, Status::kDelivered}) {
    ASSERT_TRUE(Move(calling.id, s, Service::kIMessage).ok());
  }
  clock_.Advance(std::chrono::hours(48));
  auto recent = Accept(NewMessage("recent")).value();
  ASSERT_TRUE(Move(recent.id, Status::kError).ok());
  EXPECT_EQ(store_->PruneMessages(clock_.Now() - std::chrono::hours(24)).value(), 1);
  EXPECT_FALSE(store_->FindMessageById(done.id).ok()) << "finished two days ago: gone";
  EXPECT_TRUE(store_->FindMessageById(waiting.id).ok()) << "still queued";
  EXPECT_TRUE(store_->FindMessageById(calling.id).ok()) << "its callbacks are still pending";
  EXPECT_TRUE(store_->FindMessageById(recent.id).ok()) << "finished within the retention";
  MessageQuery q;
  q.account_id = account_.id;
  q.number = "+14155550100";
  EXPECT_EQ(store_->ListMessages(q)->total, 3) << "the conversation no longer lists it";
  EXPECT_EQ(store_->PruneMessages(clock_.Now() - std::chrono::hours(24)).value(), 0);
}

TEST_P(StoreTest, StrangersCannotFillTheStoreWithUnroutedMessages) {
  max_unrouted_ = 3;
  store_.reset();
  Open();
  auto stranger = [this](const std::string& line, int i) {
    Message m = NewMessage("stranger-" + line + std::to_string(i));
    m.line_number = line;
    m.contact = "+1415555" + std::to_string(1000 + i);
    m.content = "spam " + std::to_string(i);
    std::promise<Result<std::vector<Message>>> p;
    store_->RecordSharedInbound(
        m, {account_.id}, [&p](Result<std::vector<Message>> r) { p.set_value(std::move(r)); });
    EXPECT_TRUE(p.get_future().get()->empty()) << "no account registered the sender";
  };
  stranger("+12125550198", 0);  // another shared line's is not the flood's to evict
  for (int i = 0; i < 6; ++i) stranger("+12125550199", i);
  auto kept = store_->ListUnrouted("+12125550199", 50).value();
  ASSERT_EQ(kept.size(), 3u) << "inbound.max_unrouted_per_line";
  EXPECT_EQ(kept[0].content, "spam 5") << "the newest are kept";
  EXPECT_EQ(kept[2].content, "spam 3");
  EXPECT_EQ(store_->ListUnrouted("+12125550198", 50)->size(), 1u);
}

TEST_P(StoreTest, UnfinishedMessagesAndPendingDeliveriesSurviveReopening) {
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
  for (const auto& m : store_->InFlightOutbound().value()) handles.push_back(m.handle);
  EXPECT_EQ(handles, (std::vector<std::string>{"a", "s"})) << "SMS SENT is final";
  auto waiting = store_->QueuedByLine().value();
  ASSERT_EQ(waiting.size(), 1u);
  EXPECT_EQ(waiting["+12125550199"].first, 1) << "q was the contact's first message";
  EXPECT_EQ(waiting["+12125550199"].known, 0);
  auto page = store_->QueuedPage("+12125550199", true, 0, 10).value();
  ASSERT_EQ(page.size(), 1u);
  EXPECT_EQ(page[0].handle, "q");
  EXPECT_EQ(store_->PendingDeliveries()->size(), 3u);
}

// A line's queue pages its QUEUED messages in by id, each kind on its own: to known contacts,
// and first messages (which may wait for a new-contact slot while the others go).
TEST_P(StoreTest, QueuedMessagesArePagedByLineKindAndId) {
  std::vector<int64_t> known, first;
  for (int i = 0; i < 7; ++i) {
    Message m = NewMessage("k" + std::to_string(i));
    m.contact = "+1415555010" + std::to_string(i % 2);  // two contacts: the first two are new
    auto stored = Accept(m).value();
    (stored.new_contact ? first : known).push_back(stored.id);
  }
  ASSERT_EQ(first.size(), 2u);
  ASSERT_EQ(known.size(), 5u);
  Message other = NewMessage("other line");
  other.line_number = "+12125550198";
  other.contact = "+14155550109";
  ASSERT_TRUE(Accept(other).ok());
  ASSERT_TRUE(Move(known[1], Status::kAccepted).ok());  // no longer waiting

  auto ids = [](const std::vector<Message>& page) {
    std::vector<int64_t> out;
    for (const auto& m : page) out.push_back(m.id);
    return out;
  };
  const std::string line = "+12125550199";
  EXPECT_EQ(ids(store_->QueuedPage(line, false, 0, 2).value()),
            (std::vector<int64_t>{known[0], known[2]}));
  EXPECT_EQ(ids(store_->QueuedPage(line, false, known[2], 10).value()),
            (std::vector<int64_t>{known[3], known[4]}))
      << "after the cursor, to the end";
  EXPECT_EQ(ids(store_->QueuedPage(line, true, 0, 10).value()), first);
  EXPECT_TRUE(store_->QueuedPage(line, true, first.back(), 10)->empty());
  auto counts = store_->QueuedByLine().value();
  EXPECT_EQ(counts[line].known, 4);
  EXPECT_EQ(counts[line].first, 2);
  EXPECT_EQ(counts["+12125550198"].first, 1);
  auto one = store_->QueuedByLine(line).value();
  EXPECT_EQ(one.size(), 1u) << "only the line asked for";
  EXPECT_EQ(one[line].total(), 6);
}

TEST_P(StoreTest, ManyConcurrentWritesAreGroupCommitted) {
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

TEST_P(StoreTest, ADuplicateHandleFailsAloneWithoutHarmingTheBatch) {
  ASSERT_TRUE(Accept(NewMessage("dup")).ok());
  std::promise<Result<Message>> p1, p2;
  store_->Accept(NewMessage("dup"), {}, [&p1](Result<Message> r) { p1.set_value(std::move(r)); });
  store_->Accept(NewMessage("fine"), {}, [&p2](Result<Message> r) { p2.set_value(std::move(r)); });
  EXPECT_FALSE(p1.get_future().get().ok());
  EXPECT_TRUE(p2.get_future().get().ok());
  EXPECT_TRUE(store_->healthy());
}

}  // namespace
}  // namespace bluegate::store
