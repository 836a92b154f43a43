// The Accounts role of the store: accounts and their API keys (who may call).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"

namespace bluegate::store {

struct Account {
  int64_t id = 0;
  std::string email;
  std::string plan;
};

struct ApiKey {
  std::string key_id;
  int64_t account_id = 0;
  std::string salt;
  std::string secret_hash;  // hex HMAC-SHA256(salt, secret), or "scrypt$N$r$p$hex" (api/auth.h)
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
  virtual Result<ApiKey> FindApiKey(std::string_view key_id) = 0;
};

}  // namespace bluegate::store
