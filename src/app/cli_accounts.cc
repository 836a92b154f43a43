// bluegate accounts ...
#include <iostream>

#include "app/cli_command.h"
#include "app/wiring.h"

namespace bluegate::app {
namespace {

struct AccountCreateOptions {
  CommonOptions common;
  std::string email, key_id, secret, plan = "blue";
};

Result<int> AccountsCreate(const AccountCreateOptions& o) {
  Config c = Load(o.common);
  auto store = OpenStore(c);
  auto creds = CreateAccount(*store, o.email, o.plan, o.key_id, o.secret);
  if (!creds.ok()) return creds.error();
  std::cout << "account: " << creds->email << "\n"
            << "key id:  " << creds->key_id << "\n"
            << "secret:  " << creds->secret << "\n";
  return 0;
}

}  // namespace

void AddAccountCommands(CLI::App& app, Command& chosen) {
  auto* accounts = app.add_subcommand("accounts", "Manage accounts");
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
}

}  // namespace bluegate::app
