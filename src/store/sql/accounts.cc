// Accounts on SQL (store/accounts.h): accounts and their API keys.
#include "store/sql/sql_store_impl.h"
#include "store/sql/statements.h"

namespace bluegate::store {
namespace {

constexpr const char* kAccountColumns = "id, email, plan, created_at, disabled_at";
constexpr const char* kKeyColumns = "key_id, account_id, salt, secret_hash, created_at, revoked_at";

std::optional<TimePoint> OptTime(const Stmt& s, int col) {
  if (s.IsNull(col)) return std::nullopt;
  return FromUnixMillis(s.Int(col));
}

Account ReadAccount(const Stmt& s) {
  return Account{s.Int(0), s.Text(1), s.Text(2), FromUnixMillis(s.Int(3)), OptTime(s, 4)};
}

ApiKey ReadKey(const Stmt& s) {
  return ApiKey{s.Text(0), s.Int(1), s.Text(2), s.Text(3), FromUnixMillis(s.Int(4)), OptTime(s, 5)};
}

Result<Account> LoadAccount(Db* db, int64_t id) {
  Stmt s(db, std::string("SELECT ") + kAccountColumns + " FROM accounts WHERE id = ?");
  s.Bind(id);
  if (!s.Step()) return Error::NotFound("no account with id " + std::to_string(id));
  return ReadAccount(s);
}

}  // namespace

Result<Account> SqlStore::CreateAccount(std::string_view email, std::string_view plan) {
  return AdminWrite<Account>([&](Conn& c) -> Result<Account> {
    const TimePoint now = FromUnixMillis(ToUnixMillis(clock_.Now()));
    Stmt& s =
        c.Prepare("INSERT INTO accounts(email, plan, created_at) VALUES (?,?,?) RETURNING id");
    s.Bind(email).Bind(plan).Bind(ToUnixMillis(now));
    s.Step();
    return Account{s.Int(0), std::string(email), std::string(plan), now};
  });
}

Result<Account> SqlStore::FindAccount(int64_t id) {
  return Read<Account>([&](Conn& c) -> Result<Account> {
    Stmt& s = c.Prepare(std::string("SELECT ") + kAccountColumns + " FROM accounts WHERE id = ?");
    s.Bind(id);
    if (!s.Step()) return Error::NotFound("no account with id " + std::to_string(id));
    return ReadAccount(s);
  });
}

Result<Account> SqlStore::FindAccountByEmail(std::string_view email) {
  return Read<Account>([&](Conn& c) -> Result<Account> {
    Stmt& s =
        c.Prepare(std::string("SELECT ") + kAccountColumns + " FROM accounts WHERE email = ?");
    s.Bind(email);
    if (!s.Step()) return Error::NotFound("no account with email " + std::string(email));
    return ReadAccount(s);
  });
}

Result<std::vector<Account>> SqlStore::ListAccounts() {
  return Read<std::vector<Account>>([&](Conn& c) -> Result<std::vector<Account>> {
    Stmt& s = c.Prepare(std::string("SELECT ") + kAccountColumns + " FROM accounts ORDER BY id");
    std::vector<Account> out;
    while (s.Step()) out.push_back(ReadAccount(s));
    return out;
  });
}

Result<Account> SqlStore::SetAccountPlan(int64_t id, std::string_view plan) {
  return AdminWrite<Account>([&](Conn& c) -> Result<Account> {
    Stmt& s = c.Prepare("UPDATE accounts SET plan = ? WHERE id = ?");
    s.Bind(plan).Bind(id).Exec();
    if (s.Changes() == 0) return Error::NotFound("no account with id " + std::to_string(id));
    return LoadAccount(c.db, id);
  });
}

Result<Account> SqlStore::SetAccountDisabled(int64_t id, bool disabled) {
  return AdminWrite<Account>([&](Conn& c) -> Result<Account> {
    const TimePoint now = clock_.Now();
    c.db->Begin();
    try {
      // Enabling clears the mark; disabling keeps the first time it was set.
      Stmt set(c.db, disabled
                         ? "UPDATE accounts SET disabled_at = COALESCE(disabled_at, ?) WHERE id = ?"
                         : "UPDATE accounts SET disabled_at = NULL WHERE id = ?");
      if (disabled) set.Bind(ToUnixMillis(now));
      set.Bind(id).Exec();
      if (set.Changes() == 0) {
        c.db->ExecQuietly("ROLLBACK");
        return Error::NotFound("no account with id " + std::to_string(id));
      }
      // Its lines hold or release their queues where they are driven.
      Stmt lines(c.db, "SELECT number FROM lines WHERE account_id = ?");
      lines.Bind(id);
      std::vector<std::string> numbers;
      while (lines.Step()) numbers.push_back(lines.Text(0));
      for (const auto& n : numbers) RecordLineChange(c.db, n, now);
      auto account = LoadAccount(c.db, id);
      c.db->Exec("COMMIT");
      return account;
    } catch (...) {
      c.db->ExecQuietly("ROLLBACK");
      throw;
    }
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
    Stmt& s = c.Prepare(std::string("SELECT ") + kKeyColumns + " FROM api_keys WHERE key_id = ?");
    s.Bind(key_id);
    if (!s.Step()) return Error::NotFound("no such API key");
    return ReadKey(s);
  });
}

Result<std::vector<ApiKey>> SqlStore::ListApiKeys(int64_t account_id) {
  return Read<std::vector<ApiKey>>([&](Conn& c) -> Result<std::vector<ApiKey>> {
    Stmt& s = c.Prepare(std::string("SELECT ") + kKeyColumns +
                        " FROM api_keys WHERE account_id = ? ORDER BY created_at, key_id");
    s.Bind(account_id);
    std::vector<ApiKey> out;
    while (s.Step()) out.push_back(ReadKey(s));
    return out;
  });
}

Result<ApiKey> SqlStore::RevokeApiKey(std::string_view key_id) {
  return AdminWrite<ApiKey>([&](Conn& c) -> Result<ApiKey> {
    Stmt set(c.db, "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE key_id = ?");
    set.Bind(ToUnixMillis(clock_.Now())).Bind(key_id).Exec();
    Stmt s(c.db, std::string("SELECT ") + kKeyColumns + " FROM api_keys WHERE key_id = ?");
    s.Bind(key_id);
    if (!s.Step()) return Error::NotFound("no API key " + std::string(key_id));
    return ReadKey(s);
  });
}

}  // namespace bluegate::store
