#include "api/auth.h"

#include <gtest/gtest.h>

#include <map>

#include "testing/manual_clock.h"

namespace bluegate::api {
namespace {

// Accounts in memory, counting the key reads the authenticator makes.
class MemoryAccounts final : public store::Accounts {
 public:
  Result<store::Account> CreateAccount(std::string_view, std::string_view) override {
    return Error::Internal("unused");
  }
  Result<store::Account> FindAccount(int64_t id) override {
    if (auto it = accounts.find(id); it != accounts.end()) return it->second;
    return Error::NotFound("no account");
  }
  Result<store::Account> FindAccountByEmail(std::string_view) override {
    return Error::Internal("unused");
  }
  Result<Ok> AddApiKey(const store::ApiKey& key) override {
    keys[key.key_id] = key;
    return Ok{};
  }
  Result<store::ApiKey> FindApiKey(std::string_view key_id) override {
    ++key_reads;
    if (auto it = keys.find(std::string(key_id)); it != keys.end()) return it->second;
    return Error::NotFound("no such API key");
  }
  Result<std::vector<store::Account>> ListAccounts() override { return Error::Internal("unused"); }
  Result<store::Account> SetAccountPlan(int64_t, std::string_view) override {
    return Error::Internal("unused");
  }
  Result<store::Account> SetAccountDisabled(int64_t, bool) override {
    return Error::Internal("unused");
  }
  Result<std::vector<store::ApiKey>> ListApiKeys(int64_t) override {
    return Error::Internal("unused");
  }
  Result<store::ApiKey> RevokeApiKey(std::string_view) override {
    return Error::Internal("unused");
  }

  std::map<int64_t, store::Account> accounts;
  std::map<std::string, store::ApiKey> keys;
  int key_reads = 0;
};

class AuthenticatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    accounts_.accounts[1] = store::Account{1, "a@example.com", "blue"};
    AddKey("key-a", "secret-a");
  }
  void AddKey(const std::string& id, const std::string& secret) {
    ASSERT_TRUE(
        accounts_.AddApiKey(store::ApiKey{id, 1, "salt", Authenticator::HashSecret("salt", secret)})
            .ok());
  }
  static HttpRequest With(const std::string& id, const std::string& secret) {
    HttpRequest r;
    r.headers = {{"sb-api-key-id", id}, {"sb-api-secret-key", secret}};
    return r;
  }
  Result<Principal> Call(const std::string& id, const std::string& secret) {
    return auth_.Authenticate(With(id, secret));
  }

  testing::ManualClock clock_;
  MemoryAccounts accounts_;
  Authenticator auth_{accounts_, clock_, Millis(500)};
};

TEST_F(AuthenticatorTest, AnAccountsKeysEachAuthenticateAsIt) {
  AddKey("key-b", "secret-b");
  EXPECT_EQ(Call("key-a", "secret-a")->account.email, "a@example.com");
  EXPECT_EQ(Call("key-b", "secret-b")->key_id, "key-b");
  EXPECT_FALSE(Call("key-b", "secret-a").ok()) << "a secret belongs to its own key";
}

TEST_F(AuthenticatorTest, ACachedKeyIsReadAgainOnlyAfterTheRecheckInterval) {
  ASSERT_TRUE(Call("key-a", "secret-a").ok());
  const int reads = accounts_.key_reads;
  clock_.Advance(Millis(499));
  ASSERT_TRUE(Call("key-a", "secret-a").ok());
  EXPECT_EQ(accounts_.key_reads, reads) << "within the interval the cache answers";
  clock_.Advance(Millis(1));
  ASSERT_TRUE(Call("key-a", "secret-a").ok());
  EXPECT_EQ(accounts_.key_reads, reads + 1);
}

TEST_F(AuthenticatorTest, ARevokedKeyIsRefusedOnceTheRecheckIntervalPasses) {
  ASSERT_TRUE(Call("key-a", "secret-a").ok());
  accounts_.keys["key-a"].revoked_at = clock_.Now();
  clock_.Advance(Millis(500));
  auto refused = Call("key-a", "secret-a");
  ASSERT_TRUE(refused.ok()) << "the secret is right: not a guess";
  EXPECT_EQ(refused->refused, "Invalid API credentials: this API key was revoked");
  auto guessed = Call("key-a", "wrong");
  ASSERT_FALSE(guessed.ok());
  EXPECT_EQ(guessed.error().message.find("revoked"), std::string::npos)
      << "only the secret's holder learns the key was revoked";
}

TEST_F(AuthenticatorTest, ADisabledAccountIsRefusedAndEnabledAgainAccepted) {
  ASSERT_TRUE(Call("key-a", "secret-a").ok());
  accounts_.accounts[1].disabled_at = clock_.Now();
  clock_.Advance(Millis(500));
  EXPECT_EQ(Call("key-a", "secret-a")->refused,
            "Invalid API credentials: this account is disabled");
  accounts_.accounts[1].disabled_at.reset();
  clock_.Advance(Millis(500));
  EXPECT_EQ(Call("key-a", "secret-a")->refused, "");
}

TEST_F(AuthenticatorTest, StillAllowedReadsTheStoreForOpenStreams) {
  EXPECT_TRUE(auth_.StillAllowed("key-a"));
  EXPECT_FALSE(auth_.StillAllowed("no-such-key"));
  accounts_.accounts[1].disabled_at = clock_.Now();
  EXPECT_FALSE(auth_.StillAllowed("key-a")) << "a disabled account, at once (no cache)";
  accounts_.accounts[1].disabled_at.reset();
  accounts_.keys["key-a"].revoked_at = clock_.Now();
  EXPECT_FALSE(auth_.StillAllowed("key-a")) << "a revoked key";
}

TEST_F(AuthenticatorTest, ARevokedKeyWithinTheIntervalIsStillServedFromTheCache) {
  ASSERT_TRUE(Call("key-a", "secret-a").ok());
  accounts_.keys["key-a"].revoked_at = clock_.Now();
  clock_.Advance(Millis(499));
  EXPECT_EQ(Call("key-a", "secret-a")->refused, "") << "the bound is the interval, no sooner";
}

TEST_F(AuthenticatorTest, ADeletedKeyLeavesTheCache) {
  ASSERT_TRUE(Call("key-a", "secret-a").ok());
  accounts_.keys.clear();
  clock_.Advance(Millis(500));
  EXPECT_FALSE(Call("key-a", "secret-a").ok());
}

TEST(AuthTest, AChosenSecretIsKeptAsAnScryptHash) {
  const std::string hash = Authenticator::HashChosenSecret("salt", "benchsecret");
  EXPECT_TRUE(hash.starts_with("scrypt$16384$8$1$")) << hash;
  EXPECT_EQ(hash.find("benchsecret"), std::string::npos);
  EXPECT_TRUE(Authenticator::Matches("salt", hash, "benchsecret"));
  EXPECT_FALSE(Authenticator::Matches("salt", hash, "benchsecreT"));
  EXPECT_FALSE(Authenticator::Matches("other", hash, "benchsecret")) << "salted";
}

TEST(AuthTest, AGeneratedSecretStaysAnHmacAndBothFormsAreRead) {
  const std::string hash = Authenticator::HashSecret("salt", "0123abcd");
  EXPECT_EQ(hash.size(), 64u);
  EXPECT_TRUE(Authenticator::Matches("salt", hash, "0123abcd"));
  EXPECT_FALSE(Authenticator::Matches("salt", hash, "0123abce"));
}

TEST(AuthTest, MalformedOrExcessiveStoredParametersNeverMatch) {
  EXPECT_FALSE(Authenticator::Matches("s", "scrypt$x$8$1$00", "a"));
  EXPECT_FALSE(Authenticator::Matches("s", "scrypt$16384$8$1", "a"));
  EXPECT_FALSE(Authenticator::Matches("s", "scrypt$1073741824$8$1$00", "a")) << "too costly";
  EXPECT_FALSE(Authenticator::Matches("s", "", "a"));
}

}  // namespace
}  // namespace bluegate::api
