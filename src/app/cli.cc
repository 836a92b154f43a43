#include "app/cli.h"

#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include <unistd.h>

#include <iostream>
#include <tuple>

#include <fmt/format.h>

#include <future>
#include <map>


#include "core/account_events.h"
#include "api/deliveries_json.h"
#include "app/config.h"
#include "app/wiring.h"
#include "core/phone.h"
#include "queue/outbound.h"
#include "store/postgres/postgres_db.h"

namespace bluegate::app {
namespace {

struct CommonOptions {
  std::optional<std::string> config;
  std::optional<std::string> data_dir;
  std::optional<std::string> database_url;
};

void AddCommon(CLI::App* cmd, CommonOptions& o) {
  cmd->add_option("--config", o.config, "TOML configuration file (also BLUEGATE_CONFIG)");
  cmd->add_option("--data-dir", o.data_dir,
                  "Data directory (default ./bluegate-data; also BLUEGATE_DATA_DIR)");
  cmd->add_option("--database-url", o.database_url,
                  "PostgreSQL shared by every node, postgresql://user:password@host:port/db "
                  "(also BLUEGATE_DATABASE_URL; default: SQLite in the data directory)");
}

Config Load(const CommonOptions& o) {
  Config c = LoadConfig(o.config);
  if (o.data_dir) c.data_dir = *o.data_dir;
  if (o.database_url) c.database_url = *o.database_url;
  CheckConfig(c);
  return c;
}

// Where the data is, for messages: the SQLite file or the PostgreSQL URL without its password.
std::string Where(const Config& c) {
  return c.clustered() ? store::RedactDatabaseUrl(c.database_url) : c.data_dir;
}

int Migrate(const CommonOptions& common) {
  Config c = Load(common);
  OpenStore(c);  // opening applies the migrations
  std::cout << "the schema of " << Where(c) << " is up to date\n";
  return 0;
}

int Serve(const CommonOptions& common, const std::optional<std::string>& listen,
          std::optional<int> threads, const std::optional<std::string>& node_id) {
  Config c = Load(common);
  if (listen) c.listen = *listen;
  if (threads) c.threads = *threads;
  if (node_id) c.node_id = *node_id;
  spdlog::set_level(spdlog::level::from_str(c.log_level));
  Gateway gateway(c);
  gateway.Start();
  std::cout << "listening on " << gateway.local_address() << std::endl;
  spdlog::info("bluegate serving on {} with data in {}", gateway.local_address(), Where(c));
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

// `--option KEY=VALUE` arguments as a map; `KEY=` (no value) is kept empty, which `lines set`
// reads as "remove".
Result<carriers::CarrierOptions> OptionArguments(const std::vector<std::string>& args) {
  carriers::CarrierOptions out;
  for (const auto& a : args) {
    auto kv = carriers::ParseOptionArgument(a);
    if (!kv.ok()) return kv.error();
    out[kv->first] = kv->second;
  }
  return out;
}

// "host=smsc.example.com, password=***": a line's options for display, secrets hidden.
std::string OptionsText(const carriers::CarrierOptions& options) {
  std::string out;
  for (const auto& [k, v] : options) {
    out += (out.empty() ? "" : ", ") + k + "=" + (k == "password" ? std::string("***") : v);
  }
  return out;
}

int LinesAdd(const CommonOptions& common, const std::string& email, const std::string& number,
             const std::string& carrier, bool shared, const std::vector<std::string>& option_args) {
  Config c = Load(common);
  PhoneNumbers phones;
  auto e164 = phones.Normalize(number, "--number");
  if (!e164.ok()) {
    std::cerr << "error: " << e164.error().message << "\n";
    return 1;
  }
  auto options = OptionArguments(option_args);
  if (!options.ok()) {
    std::cerr << "error: " << options.error().message << "\n";
    return 1;
  }
  // What the server will read: the config file's options for this number, then these.
  carriers::CarrierOptions effective;
  if (auto it = c.line_options.find(e164.value()); it != c.line_options.end()) {
    effective = it->second;
  }
  for (const auto& [k, v] : options.value()) effective[k] = v;
  if (auto ok = CheckLineCarrier(carrier, effective); !ok.ok()) {
    std::cerr << "error: " << ok.error().message << "\n";
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
  store::LineSettings settings;
  if (shared) settings.shared = true;
  auto line = store->AddLine(store::Line{e164.value(), account->id, carrier,
                                         carriers::OptionsToJson(options.value()), settings});
  if (!line.ok()) {
    std::cerr << "error: " << line.error().message << "\n";
    return 1;
  }
  // Tell the account's line_assigned webhooks (a running server delivers them).
  std::promise<Result<Ok>> recorded;
  store->RecordEvent(account->id, "line_assigned",
                     LineAssignedJson(line->number, email, carrier, SystemClock().Now()),
                     line->number, [&recorded](Result<Ok> r) { recorded.set_value(std::move(r)); });
  if (auto r = recorded.get_future().get(); !r.ok()) {
    std::cerr << "warning: the line was added, but its line_assigned webhooks were not queued: "
              << r.error().message << "\n";
  }
  std::cout << "line " << line->number << " added to " << email << " (carrier " << carrier
            << (shared ? ", shared: sends only to verified contacts" : "") << ")\n";
  if (!effective.empty()) std::cout << "  options: " << OptionsText(effective) << "\n";
  return 0;
}

queue::QueueSettings QueueSettingsOf(const Config& c) {
  queue::QueueSettings qs;
  qs.defaults = c.line_defaults;
  qs.per_line = c.line_overrides;
  return qs;
}

std::string LimitText(int64_t v) { return v > 0 ? std::to_string(v) : "none"; }

std::string DurationText(Millis d) {
  const int64_t ms = d.count();
  if (ms % 86'400'000 == 0) return std::to_string(ms / 86'400'000) + "d";
  if (ms % 3'600'000 == 0) return std::to_string(ms / 3'600'000) + "h";
  if (ms % 60'000 == 0) return std::to_string(ms / 60'000) + "m";
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

// The line's limits as they apply, each marked "(line)" where `lines set` decided it.
void PrintLimits(const queue::LineLimits& l, const store::LineSettings& own) {
  auto mark = [](bool set) { return set ? "  (line)" : ""; };
  const std::string burst =
      l.burst_per_second > 0 ? fmt::format("{:g}", l.burst_per_second) : std::string("none");
  std::cout << "  burst per second:      " << burst << mark(own.burst_per_second.has_value())
            << "\n"
            << "  queue capacity:        " << l.queue_capacity
            << mark(own.queue_capacity.has_value()) << "\n"
            << "  new contacts per day:  " << LimitText(l.new_contacts.per_day)
            << mark(own.new_contacts_per_day.has_value()) << "\n"
            << "  new contacts per hour: " << LimitText(l.new_contacts.per_hour)
            << mark(own.new_contacts_per_hour.has_value()) << "\n"
            << "  new contact after:     " << DurationText(l.new_contact_after)
            << mark(own.new_contact_after.has_value()) << "\n"
            << "  resolve timeout:       " << DurationText(l.resolve_timeout)
            << mark(own.resolve_timeout.has_value()) << "\n"
            << "  shared:                " << (l.shared ? "yes" : "no")
            << mark(own.shared.has_value()) << "\n";
}

struct LineSetOptions {
  std::string number;
  std::optional<double> burst_per_second;
  std::optional<int64_t> queue_capacity;
  std::optional<int64_t> new_contacts_per_day;
  std::optional<int64_t> new_contacts_per_hour;
  std::optional<std::string> new_contact_after;
  std::optional<std::string> resolve_timeout;
  std::optional<bool> shared;
  bool reset = false;
  std::vector<std::string> options;  // KEY=VALUE; KEY= removes the key
};

int LinesSet(const CommonOptions& common, const LineSetOptions& o) {
  Config c = Load(common);
  PhoneNumbers phones;
  auto e164 = phones.Normalize(o.number, "--number");
  if (!e164.ok()) {
    std::cerr << "error: " << e164.error().message << "\n";
    return 1;
  }
  auto duration = [](const std::optional<std::string>& text, const char* flag,
                     std::optional<Millis>& out) -> bool {
    if (!text) return true;
    auto d = ParseDuration(*text);
    if (!d || d->count() <= 0) {
      std::cerr << "error: " << flag << " must be a duration such as \"30d\", \"12h\" or \"90s\"\n";
      return false;
    }
    out = *d;
    return true;
  };
  auto store = OpenStore(c);
  auto line = store->FindLine(e164.value());
  if (!line.ok()) {
    std::cerr << "error: no line " << e164.value() << " (see `bluegate lines list`)\n";
    return 1;
  }
  store::LineSettings s = o.reset ? store::LineSettings{} : line->settings;
  if (o.burst_per_second) {
    if (*o.burst_per_second < 0) {
      std::cerr << "error: --burst-per-second must be 0 (no limit) or more\n";
      return 1;
    }
    s.burst_per_second = *o.burst_per_second;
  }
  if (o.queue_capacity) {
    if (*o.queue_capacity < 1) {
      std::cerr << "error: --queue-capacity must be at least 1\n";
      return 1;
    }
    s.queue_capacity = *o.queue_capacity;
  }
  for (auto [v, flag, out] :
       {std::tuple{o.new_contacts_per_day, "--new-contacts-per-day", &s.new_contacts_per_day},
        std::tuple{o.new_contacts_per_hour, "--new-contacts-per-hour", &s.new_contacts_per_hour}}) {
    if (!v) continue;
    if (*v < 0) {
      std::cerr << "error: " << flag << " must be 0 (no limit) or more\n";
      return 1;
    }
    *out = *v;
  }
  if (!duration(o.new_contact_after, "--new-contact-after", s.new_contact_after) ||
      !duration(o.resolve_timeout, "--resolve-timeout", s.resolve_timeout)) {
    return 1;
  }
  if (o.shared) s.shared = *o.shared;
  bool options_changed = false;
  if (!o.options.empty()) {
    auto changes = OptionArguments(o.options);
    auto stored = carriers::OptionsFromJson(line->options_json);
    if (!changes.ok() || !stored.ok()) {
      std::cerr << "error: " << (changes.ok() ? stored.error() : changes.error()).message << "\n";
      return 1;
    }
    carriers::CarrierOptions next = stored.value();
    for (const auto& [k, v] : changes.value()) {
      if (v.empty()) {
        next.erase(k);
      } else {
        next[k] = v;
      }
    }
    store::Line probe = line.value();
    probe.options_json = carriers::OptionsToJson(next);
    auto effective = EffectiveOptions(c, probe);
    if (!effective.ok()) {
      std::cerr << "error: " << effective.error().message << "\n";
      return 1;
    }
    if (auto ok = CheckLineCarrier(line->carrier, effective.value()); !ok.ok()) {
      std::cerr << "error: " << ok.error().message << "\nNothing was changed.\n";
      return 1;
    }
    if (auto r = store->SetLineOptions(e164.value(), probe.options_json); !r.ok()) {
      std::cerr << "error: " << r.error().message << "\n";
      return 1;
    }
    options_changed = true;
    std::cout << "line " << e164.value() << " carrier " << line->carrier
              << " options now: " << OptionsText(effective.value())
              << "\n  (a running server reconnects the line with them within a second)\n";
  }
  auto updated = store->SetLineSettings(e164.value(), s);
  if (!updated.ok()) {
    std::cerr << "error: " << updated.error().message << "\n";
    return 1;
  }
  if (options_changed && s.empty() && !o.reset && line->settings.empty()) return 0;
  std::cout << "line " << updated->number
            << " (a running server applies this within a second); limits now, with "
            << (common.config ? "the config file " + *common.config
                              : std::string("the built-in defaults (no --config given)"))
            << " for what the line does not set:\n";
  PrintLimits(queue::EffectiveLimits(QueueSettingsOf(c), updated.value()), updated->settings);
  return 0;
}

int LinesRemove(const CommonOptions& common, const std::string& number,
                const std::string& queued_choice, std::string move_to) {
  Config c = Load(common);
  PhoneNumbers phones;
  auto e164 = phones.Normalize(number, "--number");
  if (!e164.ok()) {
    std::cerr << "error: " << e164.error().message << "\n";
    return 1;
  }
  auto store = OpenStore(c);
  if (!store->FindLine(e164.value()).ok()) {
    std::cerr << "error: no line " << e164.value() << " (see `bluegate lines list`)\n";
    return 1;
  }
  std::string choice = queued_choice;
  if (choice.empty()) {
    auto waiting = store->CountQueued(e164.value());
    if (!waiting.ok()) {
      std::cerr << "error: " << waiting.error().message << "\n";
      return 1;
    }
    if (waiting.value() > 0 && ::isatty(STDIN_FILENO)) {
      std::cout << waiting.value() << " messages wait in QUEUED on line " << e164.value()
                << ".\nFail them (ERROR 10001, their callbacks told), move them and the line's "
                   "contacts to another line, or cancel? [fail/move/cancel] "
                << std::flush;
      std::string answer;
      std::getline(std::cin, answer);
      if (answer == "fail" || answer == "move") {
        choice = answer;
      } else {
        std::cout << "nothing removed\n";
        return 2;
      }
      if (choice == "move" && move_to.empty()) {
        std::cout << "move them to line: " << std::flush;
        std::getline(std::cin, move_to);
      }
    }
  }
  store::QueuedOnRemoval mode = store::QueuedOnRemoval::kRefuse;
  std::optional<std::string> target;
  if (choice == "fail") {
    mode = store::QueuedOnRemoval::kFail;
  } else if (choice == "move") {
    auto to = phones.Normalize(move_to, "--move-to");
    if (!to.ok()) {
      std::cerr << "error: --queued move needs --move-to, another line of the same account: "
                << to.error().message << "\n";
      return 1;
    }
    mode = store::QueuedOnRemoval::kMove;
    target = to.value();
  } else if (!choice.empty()) {
    std::cerr << "error: --queued must be fail or move\n";
    return 1;
  }
  auto removed = store->RemoveLine(e164.value(), mode, target);
  if (!removed.ok()) {
    if (removed.error().kind == ErrorKind::kConflict) {
      std::cerr << "error: " << removed.error().message
                << ".\nNothing was removed. Run again with --queued fail (they end in ERROR "
                   "10001, their callbacks told) or --queued move --move-to +1... (they and the "
                   "line's contacts move to that line of the same account).\n";
      return 2;
    }
    std::cerr << "error: " << removed.error().message << "\n";
    return 1;
  }
  std::cout << "line " << e164.value() << " removed";
  if (mode == store::QueuedOnRemoval::kMove) {
    std::cout << "; " << removed->moved << " queued messages and " << removed->contacts_rebound
              << " contacts moved to " << *target;
  } else {
    std::cout << "; " << removed->failed << " queued messages failed; " << removed->contacts_rebound
              << " contacts unbound (their next message picks a line again)";
  }
  std::cout << "\n";
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
  const auto qs = QueueSettingsOf(c);
  const char* row = "{:<16}  {:<8}  {:<24}  {:>7}  {:>7}  {:>8}  {:>5}  {:>6}  {}\n";
  std::cout << fmt::format(fmt::runtime(row), "NUMBER", "CARRIER", "ACCOUNT", "BURST/S", "NEW/DAY",
                           "NEW/HOUR", "QUEUE", "SHARED", "SET BY `lines set`");
  for (const auto& l : lines.value()) {
    auto& e = emails[l.account_id];
    if (e.empty()) {
      auto account = store->FindAccount(l.account_id);
      e = account.ok() ? account->email : "?";
    }
    const auto limits = queue::EffectiveLimits(qs, l);
    std::string own;
    const auto& ls = l.settings;
    for (auto [set, name] : {std::pair{ls.burst_per_second.has_value(), "burst"},
                             std::pair{ls.queue_capacity.has_value(), "queue"},
                             std::pair{ls.new_contacts_per_day.has_value(), "day"},
                             std::pair{ls.new_contacts_per_hour.has_value(), "hour"},
                             std::pair{ls.new_contact_after.has_value(), "new-after"},
                             std::pair{ls.resolve_timeout.has_value(), "resolve"},
                             std::pair{ls.shared.has_value(), "shared"}}) {
      if (set) own += (own.empty() ? "" : ",") + std::string(name);
    }
    std::cout << fmt::format(
        fmt::runtime(row), l.number, l.carrier, e,
        limits.burst_per_second > 0 ? fmt::format("{:g}", limits.burst_per_second) : "none",
        LimitText(limits.new_contacts.per_day), LimitText(limits.new_contacts.per_hour),
        limits.queue_capacity, limits.shared ? "yes" : "no", own.empty() ? "-" : own);
    if (auto options = EffectiveOptions(c, l); options.ok() && !options->empty()) {
      std::cout << "    options: " << OptionsText(options.value()) << "\n";
    }
  }
  std::cout << lines->size() << " line" << (lines->size() == 1 ? "" : "s") << "\n";
  return 0;
}

struct SimInboundOptions {
  std::string line, from, content, media_url;
};

// Plays the recipient on a simulator line: stores the message as the carrier's inbound report
// would. A running server delivers its webhooks through its re-queue poll.
int SimInbound(const CommonOptions& common, const SimInboundOptions& o) {
  Config c = Load(common);
  PhoneNumbers phones(c.blocked_numbers);
  auto line_number = phones.Normalize(o.line, "--line");
  if (!line_number.ok()) {
    std::cerr << "error: " << line_number.error().message << "\n";
    return 1;
  }
  auto from = phones.Normalize(o.from, "--from");
  if (!from.ok()) {
    std::cerr << "error: " << from.error().message << "\n";
    return 1;
  }
  if (o.content.empty() && o.media_url.empty()) {
    std::cerr << "error: --content or --media-url is required\n";
    return 1;
  }
  auto store = OpenStore(c);
  auto line = store->FindLine(line_number.value());
  if (!line.ok()) {
    std::cerr << "error: no line " << line_number.value() << " (see `bluegate lines list`)\n";
    return 1;
  }
  if (line->carrier != "sim") {
    std::cerr << "error: line " << line->number << " is driven by carrier \"" << line->carrier
              << "\": only simulator lines take simulated inbound messages\n";
    return 1;
  }
  carriers::CarrierEvent e;
  e.kind = carriers::CarrierEvent::Kind::kInbound;
  e.at = SystemClock().Now();
  e.line = line->number;
  e.from = from.value();
  e.content = o.content;
  e.media_url = o.media_url;
  e.service = Service::kIMessage;
  std::promise<Result<Message>> stored;
  store->RecordInbound(queue::InboundMessage(line.value(), e, SecureIds()),
                       [&stored](Result<Message> r) { stored.set_value(std::move(r)); });
  auto m = stored.get_future().get();
  if (!m.ok()) {
    std::cerr << "error: " << m.error().message << "\n";
    return 1;
  }
  std::cout << "received " << m->handle << " on " << m->line_number << " from " << m->contact
            << (m->opted_out ? " (the contact is now opted out)" : "") << "\n";
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
  std::optional<std::string> node_id;
  serve->add_option("--node-id", node_id,
                    "This node's name among the nodes sharing --database-url (default: host "
                    "name and port; also BLUEGATE_NODE_ID)");

  CommonOptions migrate_common;
  auto* migrate = app.add_subcommand(
      "migrate", "Create or update the database schema, then exit (serve does it too)");
  AddCommon(migrate, migrate_common);

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
  lines_add->add_option("--carrier", line_carrier,
                        "Carrier driving the line: sim (default), smpp or bluebubbles");
  std::vector<std::string> line_options;
  lines_add->add_option(
      "--option", line_options,
      "A carrier setting KEY=VALUE, repeatable. smpp: host, port, system_id, password (required: "
      "host, system_id, password), window, throughput, tls, ... bluebubbles: url, password "
      "(required), private_api, ... (docs/carriers.md; a wrong key lists the valid ones)");
  bool line_shared = false;
  lines_add->add_flag("--shared", line_shared,
                      "A shared (free-plan) line: sends only to verified contacts");

  LineSetOptions set_opts;
  auto* lines_set = lines->add_subcommand(
      "set",
      "Set a line's own limits (they win over the config file); a running server applies them "
      "within a second. Prints the limits that now apply");
  AddCommon(lines_set, lines_common);
  lines_set->add_option("--number", set_opts.number, "The line")->required();
  lines_set->add_option("--burst-per-second", set_opts.burst_per_second,
                        "Messages per second at most (0: no limit; default 10)");
  lines_set->add_option("--queue-capacity", set_opts.queue_capacity,
                        "Messages waiting in QUEUED at most; past it sends get 429 (default 1500)");
  lines_set->add_option("--new-contacts-per-day", set_opts.new_contacts_per_day,
                        "New contacts per day from 03:00 New York (0: no limit; default 50)");
  lines_set->add_option("--new-contacts-per-hour", set_opts.new_contacts_per_hour,
                        "New contacts per rolling hour (0: no limit; default 15)");
  lines_set->add_option("--new-contact-after", set_opts.new_contact_after,
                        "Silence after which a contact is new again, e.g. 30d (default)");
  lines_set->add_option("--resolve-timeout", set_opts.resolve_timeout,
                        "ERROR 10002 when the carrier reports nothing this long, e.g. 5m");
  lines_set->add_option("--shared", set_opts.shared,
                        "true: send only to verified contacts (a shared, free-plan line)");
  lines_set->add_option("--option", set_opts.options,
                        "Change a carrier setting KEY=VALUE (KEY= removes it), repeatable; a "
                        "running server reconnects the line with the new settings");
  lines_set->add_flag("--reset", set_opts.reset,
                      "Drop the line's own limits first (back to the config file's)");

  std::string remove_number, remove_queued, remove_to;
  auto* lines_remove = lines->add_subcommand(
      "remove",
      "Remove a line. Messages waiting on it are never dropped silently: without --queued, "
      "asks (or, without a terminal, exits 2 and removes nothing)");
  AddCommon(lines_remove, lines_common);
  lines_remove->add_option("--number", remove_number, "The line")->required();
  lines_remove
      ->add_option("--queued", remove_queued,
                   "What becomes of messages waiting in QUEUED: fail (ERROR 10001, "
                   "callbacks told) or move (to --move-to, with the line's contacts)")
      ->check(CLI::IsMember({"fail", "move"}));
  lines_remove->add_option("--move-to", remove_to,
                           "With --queued move: another line of the same account");

  std::string list_account;
  auto* lines_list = lines->add_subcommand("list", "List lines: number, carrier, owning account");
  AddCommon(lines_list, lines_common);
  lines_list->add_option("--account", list_account, "Only this account's lines (its email)");

  auto* sim = app.add_subcommand("sim", "Play the other side of a simulator line");
  sim->require_subcommand(1);
  CommonOptions sim_common;
  SimInboundOptions sim_in;
  auto* sim_inbound = sim->add_subcommand(
      "inbound",
      "Store a message from a contact to a simulator line, as its carrier would report it "
      "(receive webhooks, route binding, STOP/START); also POST /api/v2/sim/inbound");
  AddCommon(sim_inbound, sim_common);
  sim_inbound->add_option("--line", sim_in.line, "The simulator line that receives it")->required();
  sim_inbound->add_option("--from", sim_in.from, "The contact's number (E.164)")->required();
  sim_inbound->add_option("--content", sim_in.content, "The message text");
  sim_inbound->add_option("--media-url", sim_in.media_url, "An attachment's URL");

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
    if (*serve) return Serve(serve_common, listen, threads, node_id);
    if (*migrate) return Migrate(migrate_common);
    if (*acc_create) return AccountsCreate(acc_common, email, key_id, secret, plan);
    if (*lines_add) {
      return LinesAdd(lines_common, line_account, line_number, line_carrier, line_shared,
                      line_options);
    }
    if (*lines_set) return LinesSet(lines_common, set_opts);
    if (*lines_remove) return LinesRemove(lines_common, remove_number, remove_queued, remove_to);
    if (*lines_list) return LinesList(lines_common, list_account);
    if (*sim_inbound) return SimInbound(sim_common, sim_in);
    if (*wh_list_cmd) return WebhooksList(wh_common, wh_list);
    if (*wh_retry_cmd) return WebhooksRetry(wh_common, retry_id);
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}

}  // namespace bluegate::app
