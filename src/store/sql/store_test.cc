// The store's messages, once for each engine: every TEST_P runs on SQLite and on PostgreSQL.
// (Contacts and lines: store_contacts_test.cc; webhooks: store_webhooks_test.cc.)
#include <map>
#include <string>

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

TEST_P(StoreTest, ManyMessagesAreReadByTheirIdsInOneCall) {
  // 70 ids: more than one statement's worth, with a repeated id and two that do not exist.
  std::map<int64_t, std::string> handles;
  std::vector<int64_t> ids;
  for (int i = 0; i < 68; ++i) {
    auto m = Accept(NewMessage("many" + std::to_string(i))).value();
    handles[m.id] = m.handle;
    ids.push_back(m.id);
  }
  ids.push_back(ids.front());
  ids.push_back(ids.back() + 1000);
  auto found = store_->FindMessagesByIds(ids);
  ASSERT_TRUE(found.ok());
  std::map<int64_t, std::string> read;
  for (const auto& m : *found) {
    EXPECT_TRUE(read.emplace(m.id, m.handle).second) << "message " << m.id << " read twice";
    EXPECT_EQ(m.account_email, "a@example.com");
  }
  EXPECT_EQ(read, handles) << "every message that exists, once";
  EXPECT_TRUE(store_->FindMessagesByIds({}).value().empty());
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
  const std::string line = "+12125550199";
  const TimePoint epoch = clock_.Now() - std::chrono::hours(1);
  ASSERT_EQ(store_->NewContactStarts(line, epoch)->size(), 1u) << "the contact's first message";
  clock_.Advance(std::chrono::hours(48));
  auto recent = Accept(NewMessage("recent")).value();
  ASSERT_TRUE(Move(recent.id, Status::kError).ok());
  EXPECT_EQ(store_->PruneMessages(clock_.Now() - std::chrono::hours(24)).value(), 1);
  EXPECT_TRUE(store_->NewContactStarts(line, epoch)->empty()) << "its start went with it";
  EXPECT_EQ(store_->QueuedByLine(line).value()[line].total(), 1) << "old-queued still waits";
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

// Holds the writer thread (in a write's callback, which runs on it) until released, so that
// everything queued meanwhile is committed in one batch.
class WriterGate {
 public:
  // `m`: a message to accept, in whose callback the writer waits.
  WriterGate(Store& store, Message m) {
    store.Accept(std::move(m), {}, [this](Result<Message>) {
      entered_.set_value();
      released_.get_future().wait();
    });
    entered_.get_future().wait();
  }
  void Release() { released_.set_value(); }

 private:
  std::promise<void> entered_, released_;
};

TEST_P(StoreTest, TransitionsInOneBatchLeaveTheRowThatTheyLeaveOneByOne) {
  const TimePoint t0 = clock_.Now();
  auto steps = [t0](int64_t id) {
    std::vector<TransitionRequest> out(5);
    for (size_t i = 0; i < out.size(); ++i) {
      out[i].message_id = id;
      out[i].at = t0 + Millis(1000 * (i + 1));
      out[i].source = "test";
    }
    out[0].to = Status::kAccepted;
    out[1].to = Status::kSent;
    out[1].service = Service::kSms;
    out[1].was_downgraded = true;
    out[2].to = Status::kDelivered;  // not applied: an SMS leaves SENT only by its receipt
    out[3].to = Status::kError;
    out[3].receipt = true;
    // Text that a PostgreSQL array literal must quote: quotes, backslashes, commas, braces.
    out[3].error = MessageError{ErrorCode::kFailedToSend, "said \"no\", {twice} \\ NULL",
                                std::string(""), std::string("NULL")};
    out[4].to = Status::kSent;  // a late report
    return out;
  };
  Message one = NewMessage("one-by-one");
  one.contact = "+14155550101";
  one.new_contact = true;
  Message batched = NewMessage("batched");
  batched.contact = "+14155550102";
  batched.new_contact = true;
  const int64_t one_id = Accept(one).value().id;
  const int64_t batched_id = Accept(batched).value().id;

  std::vector<bool> applied_one;
  for (TransitionRequest& r : steps(one_id)) {
    std::promise<Result<TransitionOutcome>> p;
    store_->Transition(r, [&p](Result<TransitionOutcome> o) { p.set_value(std::move(o)); });
    applied_one.push_back(p.get_future().get().value().applied);
  }
  EXPECT_EQ(applied_one, (std::vector<bool>{true, true, false, true, false}));

  store_->Flush();
  const uint64_t commits = store_->Stats().commits;
  WriterGate gate(*store_, NewMessage("gate"));
  std::vector<std::promise<Result<TransitionOutcome>>> ps(5);
  auto batched_steps = steps(batched_id);
  for (size_t i = 0; i < ps.size(); ++i) {
    store_->Transition(batched_steps[i],
                       [&ps, i](Result<TransitionOutcome> o) { ps[i].set_value(std::move(o)); });
  }
  gate.Release();
  std::vector<bool> applied_batched;
  for (auto& p : ps) applied_batched.push_back(p.get_future().get().value().applied);
  EXPECT_EQ(applied_batched, applied_one);
  store_->Flush();
  EXPECT_EQ(store_->Stats().commits, commits + 2) << "the gate's batch, then one of five";
  EXPECT_EQ(store_->Stats().isolated_batches, 0u) << "not saved by running it write by write";

  const Message a = store_->FindMessage(account_.id, "one-by-one").value();
  const Message b = store_->FindMessage(account_.id, "batched").value();
  EXPECT_EQ(a.status, Status::kError);
  EXPECT_EQ(b.status, a.status);
  EXPECT_EQ(a.date_updated, t0 + Millis(4000));
  EXPECT_EQ(b.date_updated, a.date_updated);
  EXPECT_EQ(b.service, Service::kSms);
  EXPECT_EQ(b.was_downgraded, std::optional<bool>(true));
  ASSERT_TRUE(a.error && b.error);
  EXPECT_EQ(b.error->code, ErrorCode::kFailedToSend);
  EXPECT_EQ(b.error->message, "said \"no\", {twice} \\ NULL");
  EXPECT_EQ(b.error->message, a.error->message);
  EXPECT_EQ(b.error->reason, a.error->reason);
  EXPECT_EQ(b.error->detail, std::optional<std::string>("NULL"));
  EXPECT_EQ(b.error->detail, a.error->detail);
  // accepted_at, as the new-contact pacing reads it: the time of each one's ACCEPTED.
  const auto starts = store_->NewContactStarts("+12125550199", t0).value();
  EXPECT_EQ(starts, (std::vector<TimePoint>{t0 + Millis(1000), t0 + Millis(1000)}));
  EXPECT_EQ(store_->CountSmsSince("+12125550199", t0 + Millis(1000)).value(), 2);
}

// What the pager and a restart read (the queued and in-flight sets, a new contact's start) after
// one batch that moves messages in, out and within them.
TEST_P(StoreTest, TheQueuedAndInFlightSetsFollowABatchOfMixedChanges) {
  auto accept = [this](const std::string& handle, const std::string& contact) {
    Message m = NewMessage(handle);
    m.contact = contact;
    return Accept(m).value();
  };
  const Message leaving_queue = accept("leaving-queue", "+14155550101");
  const Message staying = accept("staying", "+14155550102");
  const Message still_in_flight = accept("still-in-flight", "+14155550103");
  const Message finishing = accept("finishing", "+14155550104");
  const Message through = accept("through", "+14155550105");
  ASSERT_TRUE(Move(still_in_flight.id, Status::kAccepted).ok());
  ASSERT_TRUE(Move(finishing.id, Status::kAccepted).ok());
  ASSERT_TRUE(Move(finishing.id, Status::kSent, Service::kIMessage).ok());

  std::vector<TransitionRequest> batch;
  auto step = [&batch, this](int64_t id, Status to, std::optional<Service> service = {}) {
    TransitionRequest r;
    r.message_id = id;
    r.to = to;
    r.service = service;
    r.at = clock_.Now() + Millis(10 * (batch.size() + 1));
    r.source = "test";
    batch.push_back(r);
  };
  step(leaving_queue.id, Status::kAccepted);
  step(still_in_flight.id, Status::kSent, Service::kIMessage);
  step(finishing.id, Status::kDelivered);
  step(through.id, Status::kAccepted);
  step(through.id, Status::kSent, Service::kSms);  // in and out of flight within the batch
  WriterGate gate(*store_, NewMessage("gate"));
  std::vector<std::promise<Result<TransitionOutcome>>> ps(batch.size());
  for (size_t i = 0; i < batch.size(); ++i) {
    store_->Transition(batch[i],
                       [&ps, i](Result<TransitionOutcome> o) { ps[i].set_value(std::move(o)); });
  }
  gate.Release();
  for (auto& p : ps) EXPECT_TRUE(p.get_future().get().value().applied);

  std::vector<std::string> in_flight;
  for (const auto& m : store_->InFlightOutbound().value()) in_flight.push_back(m.handle);
  EXPECT_EQ(in_flight, (std::vector<std::string>{"leaving-queue", "still-in-flight"}));
  std::vector<std::string> queued;
  const std::string line = "+12125550199";
  for (bool first : {false, true}) {
    for (const auto& m : store_->QueuedPage(line, first, 0, 10).value()) queued.push_back(m.handle);
  }
  EXPECT_EQ(queued, (std::vector<std::string>{"staying", "gate"})) << "first messages, by id";
  EXPECT_EQ(store_->QueuedByLine(line).value()[line].total(), 2);
  EXPECT_EQ(store_->NewContactStarts(line, clock_.Now() - std::chrono::hours(1))->size(), 4u)
      << "each was a first message; all but the one still queued were accepted";
}

TEST_P(StoreTest, AWriteThatReadsTheRowSeesTheBatchsEarlierTransitions) {
  const int64_t id = Accept(NewMessage("read-after")).value().id;
  WriterGate gate(*store_, NewMessage("gate"));
  std::promise<Result<TransitionOutcome>> moved;
  TransitionRequest r;
  r.message_id = id;
  r.to = Status::kAccepted;
  r.at = clock_.Now() + Millis(5);
  r.source = "test";
  store_->Transition(r, [&moved](Result<TransitionOutcome> o) { moved.set_value(std::move(o)); });
  std::promise<Result<Message>> read;
  store_->MarkRead(id, clock_.Now() + Millis(9),
                   [&read](Result<Message> m) { read.set_value(std::move(m)); });
  gate.Release();
  EXPECT_TRUE(moved.get_future().get().value().applied);
  const Message m = read.get_future().get().value();
  EXPECT_EQ(m.status, Status::kAccepted) << "the row it returns has the transition";
  EXPECT_EQ(m.date_updated, clock_.Now() + Millis(5));
}

}  // namespace
}  // namespace bluegate::store
