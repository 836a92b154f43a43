// bluegate accounts ... and bluegate keys ...: accounts, their plans and state, and their API keys.
#include <fmt/format.h>

#include <algorithm>
#include <iostream>

#include "app/cli_command.h"
#include "app/wiring.h"

namespace bluegate::app {
namespace {

// What an operator names an account by.
Result<store::Account> AccountByEmail(store::Store& store, const std::string& email) {
  auto account = store.FindAccountByEmail(email);
  if (!account.ok() && account.error().kind == ErrorKind::kNotFound) {
    return Error::Invalid("no account with email " + email + " (bluegate accounts list)");
  }
  return account;
}

std::string Day(TimePoint t) { return FormatIso8601(t).substr(0, 19) + "Z"; }

void PrintCredentials(const Credentials& creds) {
  std::cout << "account: " << creds.email << "\n"
            << "key id:  " << creds.key_id << "\n"
            << "secret:  " << creds.secret << "\n";
}

struct AccountCreateOptions {
  CommonOptions common;
  std::string email, key_id, secret, plan = "blue";
};

Result<int> AccountsCreate(const AccountCreateOptions& o) {
  Config c = Load(o.common);
  auto store = OpenStore(c);
  auto creds = CreateAccount(*store, o.email, o.plan, o.key_id, o.secret);
  if (!creds.ok()) return creds.error();
  PrintCredentials(creds.value());
  return 0;
}

struct AccountListOptions {
  CommonOptions common;
};

Result<int> AccountsList(const AccountListOptions& o) {
  Config c = Load(o.common);
  auto store = OpenStore(c);
  auto accounts = store->ListAccounts();
  if (!accounts.ok()) return accounts.error();
  const char* row = "{:<32}  {:<12}  {:<8}  {:>4}  {:>5}  {}\n";
  std::cout << fmt::format(fmt::runtime(row), "EMAIL", "PLAN", "STATE", "KEYS", "LINES", "CREATED");
  for (const auto& a : accounts.value()) {
    auto keys = store->ListApiKeys(a.id);
    if (!keys.ok()) return keys.error();
    auto lines = store->ListLines(a.id);
    if (!lines.ok()) return lines.error();
    const auto active = std::count_if(keys->begin(), keys->end(),
                                      [](const store::ApiKey& k) { return !k.revoked(); });
    std::cout << fmt::format(fmt::runtime(row), a.email, a.plan,
                             a.disabled() ? "disabled" : "active", active, lines->size(),
                             Day(a.created_at));
  }
  return 0;
}

struct AccountSetOptions {
  CommonOptions common;
  std::string email, plan;
};

Result<int> AccountsSet(const AccountSetOptions& o) {
  if (auto ok = CheckPlan(o.plan); !ok.ok()) return ok.error();
  Config c = Load(o.common);
  auto store = OpenStore(c);
  auto account = AccountByEmail(*store, o.email);
  if (!account.ok()) return account.error();
  auto set = store->SetAccountPlan(account->id, o.plan);
  if (!set.ok()) return set.error();
  std::cout << "account " << set->email << ": plan " << set->plan
            << " (the plan its new messages report)\n";
  return 0;
}

struct AccountStateOptions {
  CommonOptions common;
  std::string email;
};

Result<int> SetDisabled(const AccountStateOptions& o, bool disabled) {
  Config c = Load(o.common);
  auto store = OpenStore(c);
  auto account = AccountByEmail(*store, o.email);
  if (!account.ok()) return account.error();
  auto set = store->SetAccountDisabled(account->id, disabled);
  if (!set.ok()) return set.error();
  if (disabled) {
    std::cout << "account " << set->email
              << " disabled: its keys are refused and its lines take no sends within a second; "
                 "queued messages wait, nothing is deleted (bluegate accounts enable undoes it)\n";
  } else {
    std::cout << "account " << set->email
              << " enabled: its keys work again and its lines send what waits\n";
  }
  return 0;
}

Result<int> AccountsDisable(const AccountStateOptions& o) { return SetDisabled(o, true); }
Result<int> AccountsEnable(const AccountStateOptions& o) { return SetDisabled(o, false); }

struct KeyCreateOptions {
  CommonOptions common;
  std::string email, key_id, secret;
};

Result<int> KeysCreate(const KeyCreateOptions& o) {
  Config c = Load(o.common);
  auto store = OpenStore(c);
  auto account = AccountByEmail(*store, o.email);
  if (!account.ok()) return account.error();
  auto creds = AddKey(*store, account.value(), o.key_id, o.secret);
  if (!creds.ok()) return creds.error();
  PrintCredentials(creds.value());
  if (o.secret.empty()) std::cout << "(the secret is shown once: bluegate keeps only its hash)\n";
  return 0;
}

struct KeyListOptions {
  CommonOptions common;
  std::string email;
};

Result<int> KeysList(const KeyListOptions& o) {
  Config c = Load(o.common);
  auto store = OpenStore(c);
  auto account = AccountByEmail(*store, o.email);
  if (!account.ok()) return account.error();
  auto keys = store->ListApiKeys(account->id);
  if (!keys.ok()) return keys.error();
  const char* row = "{:<34}  {:<20}  {}\n";
  std::cout << fmt::format(fmt::runtime(row), "KEY ID", "CREATED", "STATE");
  for (const auto& k : keys.value()) {
    std::cout << fmt::format(fmt::runtime(row), k.key_id, Day(k.created_at),
                             k.revoked() ? "revoked " + Day(*k.revoked_at) : "active");
  }
  return 0;
}

struct KeyRevokeOptions {
  CommonOptions common;
  std::string key_id;
};

Result<int> KeysRevoke(const KeyRevokeOptions& o) {
  Config c = Load(o.common);
  auto store = OpenStore(c);
  auto before = store->FindApiKey(o.key_id);
  if (!before.ok()) {
    if (before.error().kind == ErrorKind::kNotFound) {
      return Error::Invalid("no API key " + o.key_id + " (bluegate keys list --account EMAIL)");
    }
    return before.error();
  }
  auto account = store->FindAccount(before->account_id);
  if (!account.ok()) return account.error();
  if (before->revoked()) {
    std::cout << "key " << o.key_id << " of " << account->email << " was already revoked at "
              << Day(*before->revoked_at) << "\n";
    return 0;
  }
  auto revoked = store->RevokeApiKey(o.key_id);
  if (!revoked.ok()) return revoked.error();
  std::cout << "key " << o.key_id << " of " << account->email
            << " revoked: its requests are refused within a second\n";
  auto keys = store->ListApiKeys(account->id);
  if (keys.ok() && std::none_of(keys->begin(), keys->end(),
                                [](const store::ApiKey& k) { return !k.revoked(); })) {
    std::cout << "note: " << account->email
              << " has no active key left; bluegate keys create --account " << account->email
              << " makes one\n";
  }
  return 0;
}

}  // namespace

void AddAccountCommands(CLI::App& app, Command& chosen) {
  auto* accounts = app.add_subcommand("accounts", "Manage accounts: create, list, set, disable");
  accounts->require_subcommand(1);
  auto [create, o] = AddCommand<AccountCreateOptions>(
      accounts, "create", "Create an account and its API key; prints the credentials", chosen,
      AccountsCreate);
  create->add_option("--email", o->email, "The account's email (its name in admin commands)")
      ->required();
  create->add_option("--key-id", o->key_id, "API key id (generated when omitted)");
  create->add_option("--secret", o->secret, "API secret (generated when omitted)");
  create->add_option("--plan", o->plan,
                     "Plan name reported in the message object's `plan` (default blue)");

  AddCommand<AccountListOptions>(accounts, "list",
                                 "List accounts: email, plan, state, active keys, lines", chosen,
                                 AccountsList);

  auto [set, so] = AddCommand<AccountSetOptions>(accounts, "set", "Change an account's plan",
                                                 chosen, AccountsSet);
  set->add_option("--email", so->email, "The account")->required();
  set->add_option("--plan", so->plan, "The plan its messages report from now on")->required();

  auto [disable, d] = AddCommand<AccountStateOptions>(
      accounts, "disable",
      "Disable an account: its keys get 401, its lines take no sends and hold their queues; "
      "nothing is deleted",
      chosen, AccountsDisable);
  disable->add_option("--email", d->email, "The account")->required();
  auto [enable, e] = AddCommand<AccountStateOptions>(
      accounts, "enable", "Enable a disabled account again", chosen, AccountsEnable);
  enable->add_option("--email", e->email, "The account")->required();

  auto* keys = app.add_subcommand("keys", "Manage API keys: several per account, revocable");
  keys->require_subcommand(1);
  auto [kc, ko] = AddCommand<KeyCreateOptions>(
      keys, "create", "Add an API key to an account; prints its id and secret (the secret once)",
      chosen, KeysCreate);
  kc->add_option("--account", ko->email, "The account's email")->required();
  kc->add_option("--key-id", ko->key_id, "API key id (generated when omitted)");
  kc->add_option("--secret", ko->secret, "API secret (generated when omitted; recommended)");
  auto [kl, lo] = AddCommand<KeyListOptions>(
      keys, "list", "List an account's keys: id, created, active or revoked", chosen, KeysList);
  kl->add_option("--account", lo->email, "The account's email")->required();
  auto [kr, ro] = AddCommand<KeyRevokeOptions>(
      keys, "revoke",
      "Revoke an API key: a running server refuses it (401) within a second; kept for the record",
      chosen, KeysRevoke);
  kr->add_option("--key-id", ro->key_id, "The key to revoke")->required();
}

}  // namespace bluegate::app
