// The Accounts role of the store: accounts and their API keys (who may call).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/result.h"

namespace bluegate::store {

struct Account {
  int64_t id = 0;
  std::string email;
  std::string plan;
  TimePoint created_at{};
  // Set by `bluegate accounts disable`: its keys are refused and its lines hold their queues.
  std::optional<TimePoint> disabled_at = std::nullopt;

  bool disabled() const { return disabled_at.has_value(); }
};

struct ApiKey {
  std::string key_id;
  int64_t account_id = 0;
  std::string salt;
  std::string secret_hash;  // hex HMAC-SHA256(salt, secret), or "scrypt$N$r$p$hex" (api/auth.h)
  TimePoint created_at{};
  std::optional<TimePoint> revoked_at = std::nullopt;  // `bluegate keys revoke`: refused from then

  bool revoked() const { return revoked_at.has_value(); }
};

// Accounts and their API keys. Synchronous and thread-safe; writes go through short transactions
// of their own (an admin command in another process writes the same way), so a running server
// sees them at once.
class Accounts {
 public:
  virtual ~Accounts() = default;
  virtual Result<Account> CreateAccount(std::string_view email, std::string_view plan) = 0;
  virtual Result<Account> FindAccount(int64_t id) = 0;
  virtual Result<Account> FindAccountByEmail(std::string_view email) = 0;
  virtual Result<Ok> AddApiKey(const ApiKey& key) = 0;
  // A key, revoked or not (the caller refuses a revoked one).
  virtual Result<ApiKey> FindApiKey(std::string_view key_id) = 0;

  // Every account, oldest first.
  virtual Result<std::vector<Account>> ListAccounts() = 0;
  virtual Result<Account> SetAccountPlan(int64_t id, std::string_view plan) = 0;
  // Disables or enables an account. Nothing is deleted: a disabled account's keys are refused,
  // and each line it owns takes no sends and keeps its queue (recorded as a change of each line,
  // so running servers hold and release them).
  virtual Result<Account> SetAccountDisabled(int64_t id, bool disabled) = 0;
  // An account's keys, revoked ones included, oldest first.
  virtual Result<std::vector<ApiKey>> ListApiKeys(int64_t account_id) = 0;
  // Marks a key revoked (kNotFound for an unknown one); a key revoked before keeps its time.
  virtual Result<ApiKey> RevokeApiKey(std::string_view key_id) = 0;
};

}  // namespace bluegate::store
