// The store's behaviour, once for each engine: every TEST_P runs on SQLite and on PostgreSQL.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <thread>

#include <filesystem>
#include <future>

#include "store/postgres/postgres_store.h"
#include "store/sql/db.h"
#include "store/sqlite/sqlite_store.h"
#include "testing/failing_vfs.h"
#include "testing/manual_clock.h"
#include "testing/postgres.h"
#include "testing/temp_dir.h"

#include "store/sql/store_fixture.h"

namespace bluegate::store {
namespace {

using testing_support::StoreFixture;

class StoreTest : public StoreFixture, public ::testing::WithParamInterface<Engine> {
 protected:
  StoreTest() : StoreFixture(GetParam()) {}
};

INSTANTIATE_TEST_SUITE_P(Engines, StoreTest, ::testing::Values(Engine::kSqlite, Engine::kPostgres),
                         [](const ::testing::TestParamInfo<Engine>& info) {
                           return info.param == Engine::kSqlite ? "Sqlite" : "Postgres";
                         });

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

TEST_P(StoreTest, EachStatusChangeWritesItsCallbackDeliveryInOrder) {
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

TEST_P(StoreTest, TheFirstMessageBindsTheContactToItsLine) {
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

TEST_P(StoreTest, ASharedLineDeclinesUnverifiedContactsUntilTheyWrite) {
  AcceptPolicy shared;
  shared.verified_only = true;
  auto declined = Accept(NewMessage("unverified"), shared).value();
  EXPECT_EQ(declined.status, Status::kDeclined);
  EXPECT_EQ(declined.error->reason, "contact_not_verified");
  AcceptPolicy asking = shared;
  asking.verification = true;
  EXPECT_EQ(Accept(NewMessage("please-reply"), asking)->status, Status::kQueued)
      << "the verification request itself may go";

  Message reply = NewMessage("reply");
  reply.is_outbound = false;
  std::promise<Result<Message>> p;
  store_->RecordInbound(reply, [&p](Result<Message> r) { p.set_value(std::move(r)); });
  ASSERT_TRUE(p.get_future().get().ok());
  EXPECT_TRUE(store_->FindContact(account_.id, "+14155550100")->verified);
  EXPECT_EQ(Accept(NewMessage("verified"), shared)->status, Status::kQueued);
}

TEST_P(StoreTest, RemovingALineRefusesWhileMessagesWaitThenMovesThemWithTheirContacts) {
  ASSERT_TRUE(store_->AddLine(Line{"+13125550190", account_.id, "sim", "{}", {}}).ok());
  auto waiting = Accept(NewMessage("waiting")).value();
  EXPECT_EQ(store_->QueuedByLine("+12125550199").value()["+12125550199"].total(), 1);

  auto refused = store_->RemoveLine("+12125550199", QueuedOnRemoval::kRefuse, std::nullopt);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().kind, ErrorKind::kConflict);
  EXPECT_TRUE(store_->FindLine("+12125550199").ok()) << "nothing removed";
  EXPECT_FALSE(store_->RemoveLine("+12125550199", QueuedOnRemoval::kMove, "+19995550100").ok())
      << "only to a line of the same account";

  auto moved = store_->RemoveLine("+12125550199", QueuedOnRemoval::kMove, "+13125550190");
  ASSERT_TRUE(moved.ok()) << moved.error().message;
  EXPECT_EQ(moved->moved, 1);
  EXPECT_EQ(moved->contacts_rebound, 1);
  EXPECT_FALSE(store_->FindLine("+12125550199").ok());
  EXPECT_EQ(store_->FindMessageById(waiting.id)->line_number, "+13125550190");
  EXPECT_EQ(store_->FindMessageById(waiting.id)->status, Status::kQueued);
  EXPECT_EQ(store_->FindRoute(account_.id, "+14155550100").value(), "+13125550190");
  auto changes = store_->LineChangesSince(0).value();
  EXPECT_EQ(changes.first.back(), "+12125550199") << "a running server learns of the removal";
}

TEST_P(StoreTest, RemovingALineCanFailItsQueuedMessagesAndUnbindItsContacts) {
  auto waiting = Accept(NewMessage("doomed", "http://127.0.0.1:1/cb")).value();
  auto failed = store_->RemoveLine("+12125550199", QueuedOnRemoval::kFail, std::nullopt);
  ASSERT_TRUE(failed.ok());
  EXPECT_EQ(failed->failed, 1);
  auto m = store_->FindMessageById(waiting.id).value();
  EXPECT_EQ(m.status, Status::kError);
  EXPECT_EQ(m.error->reason, "line_removed");
  EXPECT_EQ(store_->FindRoute(account_.id, "+14155550100").value(), std::nullopt);
  auto ds = store_->DeliveriesForMessage(waiting.id).value();
  EXPECT_EQ(ds.back().status, Status::kError) << "the status callback hears of it";
}

TEST_P(StoreTest, ADeletedContactKeepsItsOptOutAndComesBackAsANewContact) {
  ContactFields f;
  f.first_name = "Ada";
  f.opted_out = true;
  f.custom_variables["plan"] = "gold";
  auto made = store_->WriteContact(account_.id, "+14155550100", f, ContactWrite::kCreate).value();
  EXPECT_EQ(
      store_->WriteContact(account_.id, "+14155550100", f, ContactWrite::kCreate).error().kind,
      ErrorKind::kConflict);
  ContactFields more;
  more.custom_variables["team"] = "math";
  auto merged =
      store_->WriteContact(account_.id, "+14155550100", more, ContactWrite::kUpdate).value();
  EXPECT_EQ(merged.custom_variables,
            (std::map<std::string, std::string>{{"plan", "gold"}, {"team", "math"}}));
  EXPECT_EQ(merged.first_name, "Ada");

  EXPECT_EQ(store_->DeleteContacts(account_.id, {made.contact_id}).value(), 1);
  EXPECT_FALSE(store_->FindContact(account_.id, "+14155550100").ok());
  EXPECT_EQ(store_->CountContacts(account_.id).value(), 0);
  EXPECT_EQ(Accept(NewMessage("after-delete"))->status, Status::kDeclined)
      << "the opt-out outlives the contact";
  auto back = store_->FindContact(account_.id, "+14155550100").value();
  EXPECT_NE(back.contact_id, made.contact_id);
  EXPECT_EQ(back.first_name, "") << "the profile went with the deletion";
  EXPECT_TRUE(back.opted_out);
}

TEST_P(StoreTest, NewContactStartsAreWhenTheirMessagesWereAccepted) {
  auto first = Accept(NewMessage("first")).value();
  EXPECT_TRUE(first.new_contact);
  clock_.Advance(std::chrono::minutes(5));
  ASSERT_TRUE(Move(first.id, Status::kAccepted).ok());
  auto known = Accept(NewMessage("known")).value();
  EXPECT_FALSE(known.new_contact);
  ASSERT_TRUE(Move(known.id, Status::kAccepted).ok());
  auto starts = store_->NewContactStarts("+12125550199", clock_.Now() - std::chrono::hours(1));
  EXPECT_EQ(starts.value(), std::vector<TimePoint>{clock_.Now()});
  AcceptPolicy short_silence;
  short_silence.new_contact_after = std::chrono::minutes(1);
  clock_.Advance(std::chrono::hours(2));
  auto again = NewMessage("after-silence");
  again.date_created = clock_.Now();
  EXPECT_TRUE(Accept(again, short_silence)->new_contact)
      << "the line's new-contact silence decides";
}

TEST_P(StoreTest, LineSettingsAreStoredWithTheLine) {
  LineSettings ls;
  ls.burst_per_second = 2.5;
  ls.new_contacts_per_day = 0;
  ls.new_contact_after = std::chrono::hours(24 * 7);
  ls.shared = true;
  ASSERT_TRUE(store_->SetLineSettings("+12125550199", ls).ok());
  auto line = store_->FindLine("+12125550199").value();
  EXPECT_EQ(line.settings.burst_per_second, 2.5);
  EXPECT_EQ(line.settings.new_contacts_per_day, 0);
  EXPECT_EQ(line.settings.new_contact_after, std::chrono::hours(24 * 7));
  EXPECT_EQ(line.settings.shared, true);
  EXPECT_FALSE(line.settings.queue_capacity.has_value());
  EXPECT_EQ(store_->SetLineSettings("+19995550100", ls).error().kind, ErrorKind::kNotFound);
}

TEST_P(StoreTest, AcceptSeesEveryOtherChangeToTheContactAtOnce) {
  ASSERT_EQ(Accept(NewMessage("known"))->status, Status::kQueued);
  ContactFields stop;
  stop.opted_out = true;
  ASSERT_TRUE(store_->WriteContact(account_.id, "+14155550100", stop, ContactWrite::kUpdate).ok());
  EXPECT_EQ(Accept(NewMessage("after-opt-out"))->status, Status::kDeclined);
  ContactFields start;
  start.opted_out = false;
  ASSERT_TRUE(store_->WriteContact(account_.id, "+14155550100", start, ContactWrite::kUpdate).ok());
  EXPECT_EQ(Accept(NewMessage("after-opt-in"))->status, Status::kQueued);

  ASSERT_TRUE(store_->AddLine(Line{"+13125550190", account_.id, "sim", "{}", {}}).ok());
  ContactFields rebind;
  rebind.line = "+13125550190";
  ASSERT_TRUE(
      store_->WriteContact(account_.id, "+14155550100", rebind, ContactWrite::kUpdate).ok());
  EXPECT_FALSE(Accept(NewMessage("old-line")).ok()) << "bound to the new line now";
  Message moved = NewMessage("new-line");
  moved.line_number = "+13125550190";
  EXPECT_TRUE(Accept(moved).ok());

  // Accepts of a deleted contact bring it back, each time it is deleted.
  for (int i = 0; i < 2; ++i) {
    ASSERT_EQ(store_->DeleteContacts(account_.id, {"+14155550100"}).value(), 1);
    Message again = NewMessage("again-" + std::to_string(i));
    again.line_number = "+13125550190";
    ASSERT_TRUE(Accept(again).ok());
    EXPECT_TRUE(store_->FindContact(account_.id, "+14155550100").ok()) << i;
  }
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

TEST_P(StoreTest, AnInboundMessageBindsAnUnboundContact) {
  Message hello = NewMessage("in-hello");
  hello.contact = "+14155550177";
  hello.line_number = "+12125550199";
  std::promise<Result<Message>> p;
  store_->RecordInbound(hello, [&p](Result<Message> r) { p.set_value(std::move(r)); });
  ASSERT_TRUE(p.get_future().get().ok());
  EXPECT_EQ(store_->FindRoute(account_.id, "+14155550177").value(), "+12125550199");
}

TEST_P(StoreTest, AnOptedOutContactIsDeclinedAtAccept) {
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
    store_->RecordSharedInbound(m, {account_.id},
                                [&p](Result<std::vector<Message>> r) { p.set_value(std::move(r)); });
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
            (std::vector<int64_t>{known[3], known[4]})) << "after the cursor, to the end";
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

TEST_P(StoreTest, AWebhookSecretIsKeptOnceAndAReplacedOneIsGone) {
  WebhookConfig config;
  WebhookEntry hook;
  hook.url = "http://receiver.test/outbound";
  hook.secret = "first-secret";
  hook.plain = false;
  config.by_type["outbound"] = {hook};
  ASSERT_TRUE(store_->ReplaceWebhooks(account_.id, config).ok());
  ASSERT_TRUE(Accept(NewMessage("signed", "http://receiver.test/cb")).ok());
  auto secret_of = [this](const std::string& url) {
    std::vector<std::string> out;
    for (const auto& d : store_->PendingDeliveries().value()) {
      if (d.url == url) out.push_back(d.secret);
    }
    return out;
  };
  auto hooks = secret_of("http://receiver.test/outbound");
  ASSERT_FALSE(hooks.empty());
  for (const auto& s : hooks) EXPECT_EQ(s, "first-secret");
  for (const auto& s : secret_of("http://receiver.test/cb")) EXPECT_EQ(s, "") << "unsigned";

  // Rotated: the waiting deliveries are signed with the secret the webhook has now.
  config.by_type["outbound"][0].secret = "second-secret";
  ASSERT_TRUE(store_->ReplaceWebhooks(account_.id, config).ok());
  for (const auto& s : secret_of("http://receiver.test/outbound")) EXPECT_EQ(s, "second-secret");
  // Replaced by nothing: no copy of either secret is left to read.
  ASSERT_TRUE(store_->ReplaceWebhooks(account_.id, WebhookConfig{}).ok());
  for (const auto& s : secret_of("http://receiver.test/outbound")) EXPECT_EQ(s, "");
  if (GetParam() == Engine::kSqlite) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(dir_.File("test.db").c_str(), &db), SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db,
                                 "SELECT COUNT(*) FROM webhook_deliveries WHERE secret LIKE "
                                 "'%secret%'",
                                 -1, &st, nullptr),
              SQLITE_OK);
    ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
    EXPECT_EQ(sqlite3_column_int(st, 0), 0) << "no delivery row holds a secret";
    sqlite3_finalize(st);
    sqlite3_close(db);
  }
}

TEST_P(StoreTest, RecordedAttemptsMoveDeliveriesOutOfPending) {
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

TEST_P(StoreTest, PruningRemovesOldFinishedDeliveriesAndAttemptsOnly) {
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

}  // namespace
}  // namespace bluegate::store
