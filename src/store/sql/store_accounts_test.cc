// The store's accounts and API keys, once for each engine (SQLite and PostgreSQL): several keys
// per account, revoking a key, changing a plan, and disabling an account holds its lines.
#include <gtest/gtest.h>

#include "store/sql/store_fixture.h"

namespace bluegate::store {
namespace {

using testing_support::EngineName;
using testing_support::EveryEngine;

class StoreAccountsTest : public testing_support::EngineStoreTest {
 protected:
  ApiKey Key(std::string id) {
    return ApiKey{std::move(id), account_.id, "salt", "hash", {}, std::nullopt};
  }
};
INSTANTIATE_TEST_SUITE_P(Engines, StoreAccountsTest, EveryEngine(), EngineName);

TEST_P(StoreAccountsTest, AnAccountHoldsSeveralKeysAndARevokedOneKeepsItsTime) {
  ASSERT_TRUE(store_->AddApiKey(Key("first")).ok());
  clock_.Advance(Millis(1000));
  ASSERT_TRUE(store_->AddApiKey(Key("second")).ok());
  auto keys = store_->ListApiKeys(account_.id).value();
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_EQ(keys[0].key_id, "first") << "oldest first";
  EXPECT_EQ(keys[1].created_at - keys[0].created_at, Millis(1000));
  EXPECT_FALSE(keys[0].revoked());

  clock_.Advance(Millis(500));
  const TimePoint revoked_at = clock_.Now();
  auto revoked = store_->RevokeApiKey("first").value();
  EXPECT_EQ(revoked.revoked_at, revoked_at);
  clock_.Advance(Millis(500));
  EXPECT_EQ(store_->RevokeApiKey("first")->revoked_at, revoked_at) << "revoking twice keeps it";
  EXPECT_EQ(store_->FindApiKey("first")->revoked_at, revoked_at) << "found, and marked";
  EXPECT_FALSE(store_->FindApiKey("second")->revoked()) << "the other key is untouched";
  EXPECT_EQ(store_->RevokeApiKey("nope").error().kind, ErrorKind::kNotFound);
  EXPECT_EQ(store_->ListApiKeys(account_.id)->size(), 2u) << "nothing is deleted";
}

TEST_P(StoreAccountsTest, AccountsAreListedOldestFirstAndTheirPlanChanges) {
  auto other = store_->CreateAccount("b@example.com", "blue").value();
  auto all = store_->ListAccounts().value();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].email, "a@example.com");
  EXPECT_EQ(all[1].email, "b@example.com");
  EXPECT_EQ(store_->SetAccountPlan(other.id, "sapphire")->plan, "sapphire");
  EXPECT_EQ(store_->FindAccountByEmail("b@example.com")->plan, "sapphire");
  EXPECT_EQ(store_->FindAccount(account_.id)->plan, "blue") << "only that account";
  EXPECT_EQ(store_->SetAccountPlan(999999, "x").error().kind, ErrorKind::kNotFound);
}

TEST_P(StoreAccountsTest, DisablingAnAccountHoldsItsLinesAndTellsRunningServers) {
  auto [before, seq] = store_->LineChangesSince(0).value();
  EXPECT_FALSE(store_->FindLine("+12125550199")->held);
  auto disabled = store_->SetAccountDisabled(account_.id, true).value();
  ASSERT_TRUE(disabled.disabled());
  EXPECT_TRUE(store_->FindAccount(account_.id)->disabled());
  EXPECT_TRUE(store_->FindLine("+12125550199")->held);
  EXPECT_TRUE(store_->ListLines(account_.id).value().at(0).held);
  auto [changed, seq2] = store_->LineChangesSince(seq).value();
  EXPECT_EQ(changed, std::vector<std::string>{"+12125550199"}) << "a change of each line it owns";

  auto other = store_->CreateAccount("b@example.com", "blue").value();
  ASSERT_TRUE(store_->AddLine(Line{"+13125550190", other.id, "sim", "{}", {}}).ok());
  EXPECT_FALSE(store_->FindLine("+13125550190")->held) << "another account's line goes on";

  EXPECT_FALSE(store_->SetAccountDisabled(account_.id, false)->disabled());
  EXPECT_FALSE(store_->FindLine("+12125550199")->held);
  EXPECT_EQ(store_->LineChangesSince(seq2)->first.size(), 2u) << "the new line, and the release";
  EXPECT_EQ(store_->SetAccountDisabled(999999, true).error().kind, ErrorKind::kNotFound);
}

}  // namespace
}  // namespace bluegate::store
