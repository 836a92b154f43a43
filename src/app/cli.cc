#include "app/cli.h"

#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include <iostream>

#include <fmt/format.h>

#include <future>
#include <map>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "api/deliveries_json.h"
#include "app/config.h"
#include "app/wiring.h"
#include "core/phone.h"

namespace bluegate::app {
namespace {

struct CommonOptions {
  std::optional<std::string> config;
  std::optional<std::string> data_dir;
};

void AddCommon(CLI::App* cmd, CommonOptions& o) {
  cmd->add_option("--config", o.config, "TOML configuration file (also BLUEGATE_CONFIG)");
  cmd->add_option("--data-dir", o.data_dir,
                  "Data directory (default ./bluegate-data; also BLUEGATE_DATA_DIR)");
}

Config Load(const CommonOptions& o) {
  Config c = LoadConfig(o.config);
  if (o.data_dir) c.data_dir = *o.data_dir;
  return c;
}

int Serve(const CommonOptions& common, const std::optional<std::string>& listen,
          std::optional<int> threads) {
  Config c = Load(common);
  if (listen) c.listen = *listen;
  if (threads) c.threads = *threads;
  spdlog::set_level(spdlog::level::from_str(c.log_level));
  Gateway gateway(c);
  gateway.Start();
  std::cout << "listening on " << gateway.local_address() << std::endl;
  spdlog::info("bluegate serving on {} with data in {}", gateway.local_address(), c.data_dir);
  gateway.Run();
  return 0;
}

int AccountsCreate(const CommonOptions& common, const std::string& email, const std::string& key_id,
                   const std::string& secret, const std::string& plan) {
  Config c = Load(common);
  auto store = OpenStore(c);
  auto creds = CreateAccount(*store, email, plan, key_id, secret);
  if (!creds.ok()) {
    std::cerr << "error: " << creds.error().message << "\n";
    return 1;
  }
  std::cout << "account: " << creds->email << "\n"
            << "key id:  " << creds->key_id << "\n"
            << "secret:  " << creds->secret << "\n";
  return 0;
}

int LinesAdd(const CommonOptions& common, const std::string& email, const std::string& number,
             const std::string& carrier) {
  Config c = Load(common);
  if (carrier != "sim") {
    std::cerr << "error: --carrier \"" << carrier << "\" is not available; valid carriers: sim\n";
    return 1;
  }
  PhoneNumbers phones;
  auto e164 = phones.Normalize(number, "--number");
  if (!e164.ok()) {
    std::cerr << "error: " << e164.error().message << "\n";
    return 1;
  }
  auto store = OpenStore(c);
  auto account = store->FindAccountByEmail(email);
  if (!account.ok()) {
    std::cerr << "error: no account with email " << email
              << " (create one with `bluegate accounts create`)\n";
    return 1;
  }
  if (auto existing = store->FindLine(e164.value()); existing.ok()) {
    std::cerr << "error: line " << e164.value() << " already exists\n";
    return 1;
  }
  auto line = store->AddLine(store::Line{e164.value(), account->id, carrier, "{}"});
  if (!line.ok()) {
    std::cerr << "error: " << line.error().message << "\n";
    return 1;
  }
  // Tell the account's line_assigned webhooks (a running server delivers them).
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("type");
  w.String("line_assigned");
  w.Key("sendblue_number");
  w.String(line->number.c_str());
  w.Key("account_email");
  w.String(email.c_str());
  w.Key("carrier");
  w.String(carrier.c_str());
  w.Key("assigned_at");
  const std::string now = FormatIso8601(SystemClock().Now());
  w.String(now.c_str());
  w.EndObject();
  std::promise<Result<Ok>> recorded;
  store->RecordEvent(account->id, "line_assigned", std::string(buf.GetString(), buf.GetSize()),
                     line->number, [&recorded](Result<Ok> r) { recorded.set_value(std::move(r)); });
  if (auto r = recorded.get_future().get(); !r.ok()) {
    std::cerr << "warning: the line was added, but its line_assigned webhooks were not queued: "
              << r.error().message << "\n";
  }
  std::cout << "line " << line->number << " added to " << email << " (carrier " << carrier << ")\n";
  return 0;
}

int LinesList(const CommonOptions& common, const std::string& email) {
  Config c = Load(common);
  auto store = OpenStore(c);
  std::optional<int64_t> account_id;
  if (!email.empty()) {
    auto account = store->FindAccountByEmail(email);
    if (!account.ok()) {
      std::cerr << "error: no account with email " << email << "\n";
      return 1;
    }
    account_id = account->id;
  }
  auto lines = store->ListLines(account_id);
  if (!lines.ok()) {
    std::cerr << "error: " << lines.error().message << "\n";
    return 1;
  }
  std::map<int64_t, std::string> emails;
  std::cout << fmt::format("{:<16}  {:<8}  {}\n", "NUMBER", "CARRIER", "ACCOUNT");
  for (const auto& l : lines.value()) {
    auto& e = emails[l.account_id];
    if (e.empty()) {
      auto account = store->FindAccount(l.account_id);
      e = account.ok() ? account->email : "?";
    }
    std::cout << fmt::format("{:<16}  {:<8}  {}\n", l.number, l.carrier, e);
  }
  std::cout << lines->size() << " line" << (lines->size() == 1 ? "" : "s") << "\n";
  return 0;
}

struct WebhookListOptions {
  std::string message, url, outcome;
  int limit = 50;
  bool json = false;
};

int WebhooksList(const CommonOptions& common, const WebhookListOptions& o) {
  Config c = Load(common);
  std::map<std::string, std::string> params{{"message_handle", o.message},
                                            {"url", o.url},
                                            {"outcome", o.outcome},
                                            {"limit", std::to_string(o.limit)}};
  auto query = api::ParseDeliveryQuery(params);
  if (!query.ok()) {
    std::cerr << "error: " << query.error().message << "\n";
    return 1;
  }
  auto store = OpenStore(c);
  auto page = store->ListDeliveries(query.value());
  if (!page.ok()) {
    std::cerr << "error: " << page.error().message << "\n";
    return 1;
  }
  if (o.json) {
    std::cout << api::RenderDeliveryPage(page.value(), query.value()) << "\n";
    return 0;
  }
  std::cout << fmt::format("{:>8}  {:<9}  {:<10}  {:>8}  {:<15}  {:<36}  {}\n", "ID", "OUTCOME",
                           "STATUS", "ATTEMPTS", "KIND", "MESSAGE", "URL / LAST RESULT");
  for (const auto& r : page->data) {
    std::string last;
    if (!r.attempt_log.empty()) {
      const auto& a = r.attempt_log.back();
      last = a.http_status ? "HTTP " + std::to_string(a.http_status) : a.error;
    }
    std::cout << fmt::format("{:>8}  {:<9}  {:<10}  {:>8}  {:<15}  {:<36}  {}{}\n", r.delivery.id,
                             store::DeliveryStateName(r.state), StatusName(r.delivery.status),
                             r.delivery.attempts, r.delivery.kind, r.message_handle, r.delivery.url,
                             last.empty() ? "" : " (" + last + ")");
  }
  std::cout << page->data.size() << " of " << page->total << " deliveries\n";
  return 0;
}

int WebhooksRetry(const CommonOptions& common, int64_t id) {
  Config c = Load(common);
  auto store = OpenStore(c);
  auto d = store->RequeueDelivery(std::nullopt, id);
  if (!d.ok()) {
    std::cerr << "error: " << d.error().message << "\n";
    return 1;
  }
  std::cout << "delivery " << id << " re-queued; a running server sends it within a few seconds\n";
  return 0;
}

}  // namespace

int RunCli(int argc, char** argv) {
  CLI::App app{"bluegate: a self-hosted iMessage and SMS gateway with a Sendblue-compatible API"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "bluegate 0.1.0");

  CommonOptions serve_common;
  std::optional<std::string> listen;
  std::optional<int> threads;
  auto* serve =
      app.add_subcommand("serve", "Run the gateway (HTTP API, queues, carriers, webhooks)");
  AddCommon(serve, serve_common);
  serve->add_option("--listen", listen,
                    "HOST:PORT to serve on (default 127.0.0.1:8080; port 0 picks a free one)");
  serve->add_option("--threads", threads, "HTTP threads (default: one per core)");

  auto* accounts = app.add_subcommand("accounts", "Manage accounts");
  accounts->require_subcommand(1);
  CommonOptions acc_common;
  std::string email, key_id, secret, plan = "blue";
  auto* acc_create = accounts->add_subcommand(
      "create", "Create an account and its API key; prints the credentials");
  AddCommon(acc_create, acc_common);
  acc_create->add_option("--email", email, "The account's email (its name in admin commands)")
      ->required();
  acc_create->add_option("--key-id", key_id, "API key id (generated when omitted)");
  acc_create->add_option("--secret", secret, "API secret (generated when omitted)");
  acc_create->add_option("--plan", plan,
                         "Plan name reported in the message object's `plan` (default blue)");

  auto* lines = app.add_subcommand("lines", "Manage lines (the phone numbers accounts send from)");
  lines->require_subcommand(1);
  CommonOptions lines_common;
  std::string line_account, line_number, line_carrier = "sim";
  auto* lines_add =
      lines->add_subcommand("add", "Add a line to an account; a running server sees it at once");
  AddCommon(lines_add, lines_common);
  lines_add->add_option("--account", line_account, "Email of the owning account")->required();
  lines_add->add_option("--number", line_number, "The line's number in E.164 format")->required();
  lines_add->add_option("--carrier", line_carrier, "Carrier driving the line: sim (default)");

  std::string list_account;
  auto* lines_list = lines->add_subcommand("list", "List lines: number, carrier, owning account");
  AddCommon(lines_list, lines_common);
  lines_list->add_option("--account", list_account, "Only this account's lines (its email)");

  auto* webhooks = app.add_subcommand("webhooks", "Inspect and retry webhook deliveries");
  webhooks->require_subcommand(1);
  CommonOptions wh_common;
  WebhookListOptions wh_list;
  auto* wh_list_cmd = webhooks->add_subcommand(
      "list", "List webhook deliveries, newest first, with their last result");
  AddCommon(wh_list_cmd, wh_common);
  wh_list_cmd->add_option("--message", wh_list.message,
                          "Only deliveries about this message_handle");
  wh_list_cmd->add_option("--url", wh_list.url, "Only deliveries to this URL");
  wh_list_cmd->add_option("--outcome", wh_list.outcome, "pending, delivered, failed or disabled");
  wh_list_cmd->add_option("--limit", wh_list.limit, "At most this many (1-1000, default 50)");
  wh_list_cmd->add_flag("--json", wh_list.json, "Print the API's JSON, attempts included");
  int64_t retry_id = 0;
  auto* wh_retry_cmd =
      webhooks->add_subcommand("retry", "Send a delivery again from its first attempt");
  AddCommon(wh_retry_cmd, wh_common);
  wh_retry_cmd->add_option("id", retry_id, "The delivery id (from `bluegate webhooks list`)")
      ->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    if (*serve) return Serve(serve_common, listen, threads);
    if (*acc_create) return AccountsCreate(acc_common, email, key_id, secret, plan);
    if (*lines_add) return LinesAdd(lines_common, line_account, line_number, line_carrier);
    if (*lines_list) return LinesList(lines_common, list_account);
    if (*wh_list_cmd) return WebhooksList(wh_common, wh_list);
    if (*wh_retry_cmd) return WebhooksRetry(wh_common, retry_id);
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}

}  // namespace bluegate::app
