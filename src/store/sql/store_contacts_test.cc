// The store's contacts and lines, once for each engine (SQLite and PostgreSQL): routes, opt-outs,
// shared lines' verification, and what removing or changing a line does to its messages.
#include <gtest/gtest.h>

#include "store/sql/store_fixture.h"

namespace bluegate::store {
namespace {

using testing_support::EngineName;
using testing_support::EveryEngine;

class StoreContactsTest : public testing_support::EngineStoreTest {};
INSTANTIATE_TEST_SUITE_P(Engines, StoreContactsTest, EveryEngine(), EngineName);

TEST_P(StoreContactsTest, TheFirstMessageBindsTheContactToItsLine) {
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

TEST_P(StoreContactsTest, ASharedLineDeclinesUnverifiedContactsUntilTheyWrite) {
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

TEST_P(StoreContactsTest, RemovingALineRefusesWhileMessagesWaitThenMovesThemWithTheirContacts) {
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

TEST_P(StoreContactsTest, RemovingALineCanFailItsQueuedMessagesAndUnbindItsContacts) {
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

TEST_P(StoreContactsTest, ADeletedContactKeepsItsOptOutAndComesBackAsANewContact) {
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

TEST_P(StoreContactsTest, NewContactStartsAreWhenTheirMessagesWereAccepted) {
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

TEST_P(StoreContactsTest, LineSettingsAreStoredWithTheLine) {
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

TEST_P(StoreContactsTest, AcceptSeesEveryOtherChangeToTheContactAtOnce) {
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

TEST_P(StoreContactsTest, AnInboundMessageBindsAnUnboundContact) {
  Message hello = NewMessage("in-hello");
  hello.contact = "+14155550177";
  hello.line_number = "+12125550199";
  std::promise<Result<Message>> p;
  store_->RecordInbound(hello, [&p](Result<Message> r) { p.set_value(std::move(r)); });
  ASSERT_TRUE(p.get_future().get().ok());
  EXPECT_EQ(store_->FindRoute(account_.id, "+14155550177").value(), "+12125550199");
}

TEST_P(StoreContactsTest, AnOptedOutContactIsDeclinedAtAccept) {
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

}  // namespace
}  // namespace bluegate::store
