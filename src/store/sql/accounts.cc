// Accounts on SQL (store/accounts.h): accounts and their API keys.
#include "store/sql/sql_store_impl.h"

namespace bluegate::store {

Result<Account> SqlStore::CreateAccount(std::string_view email, std::string_view plan) {
  return AdminWrite<Account>([&](Conn& c) -> Result<Account> {
    Stmt& s =
        c.Prepare("INSERT INTO accounts(email, plan, created_at) VALUES (?,?,?) RETURNING id");
    s.Bind(email).Bind(plan).Bind(ToUnixMillis(clock_.Now()));
    s.Step();
    return Account{s.Int(0), std::string(email), std::string(plan)};
  });
}

Result<Account> SqlStore::FindAccount(int64_t id) {
  return Read<Account>([&](Conn& c) -> Result<Account> {
    Stmt& s = c.Prepare("SELECT id, email, plan FROM accounts WHERE id = ?");
    s.Bind(id);
    if (!s.Step()) return Error::NotFound("no account with id " + std::to_string(id));
    return Account{s.Int(0), s.Text(1), s.Text(2)};
  });
}

Result<Account> SqlStore::FindAccountByEmail(std::string_view email) {
  return Read<Account>([&](Conn& c) -> Result<Account> {
    Stmt& s = c.Prepare("SELECT id, email, plan FROM accounts WHERE email = ?");
    s.Bind(email);
    if (!s.Step()) return Error::NotFound("no account with email " + std::string(email));
    return Account{s.Int(0), s.Text(1), s.Text(2)};
  });
}

Result<Ok> SqlStore::AddApiKey(const ApiKey& key) {
  return AdminWrite<Ok>([&](Conn& c) -> Result<Ok> {
    Stmt& s = c.Prepare(
        "INSERT INTO api_keys(key_id, account_id, salt, secret_hash, created_at) VALUES "
        "(?,?,?,?,?)");
    s.Bind(key.key_id)
        .Bind(key.account_id)
        .Bind(key.salt)
        .Bind(key.secret_hash)
        .Bind(ToUnixMillis(clock_.Now()));
    s.Exec();
    return Ok{};
  });
}

Result<ApiKey> SqlStore::FindApiKey(std::string_view key_id) {
  return Read<ApiKey>([&](Conn& c) -> Result<ApiKey> {
    Stmt& s =
        c.Prepare("SELECT key_id, account_id, salt, secret_hash FROM api_keys WHERE key_id = ?");
    s.Bind(key_id);
    if (!s.Step()) return Error::NotFound("no such API key");
    return ApiKey{s.Text(0), s.Int(1), s.Text(2), s.Text(3)};
  });
}

}  // namespace bluegate::store
