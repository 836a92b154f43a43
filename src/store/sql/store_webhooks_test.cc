// The store's webhook side, once for each engine (SQLite and PostgreSQL): deliveries written with
// status changes, secrets, attempts and pruning.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include "store/sql/store_fixture.h"

namespace bluegate::store {
namespace {

using testing_support::EngineName;
using testing_support::EveryEngine;

class StoreWebhooksTest : public testing_support::EngineStoreTest {};
INSTANTIATE_TEST_SUITE_P(Engines, StoreWebhooksTest, EveryEngine(), EngineName);

TEST_P(StoreWebhooksTest, EachStatusChangeWritesItsCallbackDeliveryInOrder) {
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

TEST_P(StoreWebhooksTest, AWebhookSecretIsKeptOnceAndAReplacedOneIsGone) {
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

TEST_P(StoreWebhooksTest, RecordedAttemptsMoveDeliveriesOutOfPending) {
  auto m = Accept(NewMessage("h5", "http://127.0.0.1:1/cb")).value();
  auto pending = store_->PendingDeliveries().value();
  ASSERT_EQ(pending.size(), 3u);
  auto record = [&](int64_t delivery_id, int http_status, DeliveryState state) {
    DeliveryAttempt a;
    a.delivery_id = delivery_id;
    a.at = clock_.Now();
    a.http_status = http_status;
    a.new_state = state;
    std::promise<Result<Ok>> p;
    store_->RecordAttempt(a, [&p](Result<Ok> r) { p.set_value(std::move(r)); });
    return p.get_future().get();
  };
  ASSERT_TRUE(record(pending[0].id, 200, DeliveryState::kDelivered).ok());
  ASSERT_TRUE(record(pending[1].id, 410, DeliveryState::kDisabled).ok());
  EXPECT_EQ(store_->PendingDeliveries()->size(), 1u);
  ASSERT_TRUE(Move(m.id, Status::kAccepted).ok());
  EXPECT_EQ(store_->DeliveriesForMessage(m.id)->size(), 3u)
      << "no new delivery to an endpoint that answered 410";
  // A restarted store remembers the 410 (SQLite asks the table once, then tracks it).
  store_.reset();
  Open();
  ASSERT_TRUE(Move(m.id, Status::kSent).ok());
  EXPECT_EQ(store_->DeliveriesForMessage(m.id)->size(), 3u)
      << "no new delivery to that endpoint after a restart either";
  auto other = Accept(NewMessage("h6", "http://127.0.0.1:1/cb")).value();
  EXPECT_EQ(store_->DeliveriesForMessage(other.id)->size(), 3u)
      << "another message's callback to the same URL still gets its deliveries";
}

TEST_P(StoreWebhooksTest, PruningRemovesOldFinishedDeliveriesAndAttemptsOnly) {
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
