// bluegate lines add|set|remove|list
#include <fmt/format.h>
#include <unistd.h>

#include <future>
#include <iostream>
#include <map>
#include <tuple>

#include "app/cli_command.h"
#include "app/wiring.h"
#include "core/account_events.h"
#include "core/phone.h"
#include "queue/outbound.h"

namespace bluegate::app {
namespace {

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

Error NoLine(const std::string& number) {
  return Error::Invalid("no line " + number + " (see `bluegate lines list`)");
}

struct LineAddOptions {
  CommonOptions common;
  std::string email, number, carrier = "sim";
  bool shared = false;
  std::vector<std::string> options;
};

Result<int> LinesAdd(const LineAddOptions& o) {
  Config c = Load(o.common);
  PhoneNumbers phones;
  auto e164 = phones.Normalize(o.number, "--number");
  if (!e164.ok()) return e164.error();
  auto options = OptionArguments(o.options);
  if (!options.ok()) return options.error();
  // What the server will read: the config file's options for this number, then these.
  carriers::CarrierOptions effective;
  if (auto it = c.line_options.find(e164.value()); it != c.line_options.end()) {
    effective = it->second;
  }
  for (const auto& [k, v] : options.value()) effective[k] = v;
  if (auto ok = CheckLineCarrier(o.carrier, effective); !ok.ok()) return ok.error();
  auto store = OpenStore(c);
  auto account = store->FindAccountByEmail(o.email);
  if (!account.ok()) {
    return Error::Invalid("no account with email " + o.email +
                          " (create one with `bluegate accounts create`)");
  }
  if (auto existing = store->FindLine(e164.value()); existing.ok()) {
    return Error::Invalid("line " + e164.value() + " already exists");
  }
  store::LineSettings settings;
  if (o.shared) settings.shared = true;
  auto line = store->AddLine(store::Line{e164.value(), account->id, o.carrier,
                                         carriers::OptionsToJson(options.value()), settings});
  if (!line.ok()) return line.error();
  // Tell the account's line_assigned webhooks (a running server delivers them).
  std::promise<Result<Ok>> recorded;
  store->RecordEvent(account->id, "line_assigned",
                     LineAssignedJson(line->number, o.email, o.carrier, SystemClock().Now()),
                     line->number, [&recorded](Result<Ok> r) { recorded.set_value(std::move(r)); });
  if (auto r = recorded.get_future().get(); !r.ok()) {
    std::cerr << "warning: the line was added, but its line_assigned webhooks were not queued: "
              << r.error().message << "\n";
  }
  std::cout << "line " << line->number << " added to " << o.email << " (carrier " << o.carrier
            << (o.shared ? ", shared: sends only to verified contacts" : "") << ")\n";
  if (!effective.empty()) std::cout << "  options: " << OptionsText(effective) << "\n";
  return 0;
}

struct LineSetOptions {
  CommonOptions common;
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

// The line's new settings: its own (or none, with --reset) changed as the flags say.
Result<store::LineSettings> NewSettings(const LineSetOptions& o, const store::Line& line) {
  store::LineSettings s = o.reset ? store::LineSettings{} : line.settings;
  if (o.burst_per_second) {
    if (*o.burst_per_second < 0) {
      return Error::Invalid("--burst-per-second must be 0 (no limit) or more");
    }
    s.burst_per_second = *o.burst_per_second;
  }
  if (o.queue_capacity) {
    if (*o.queue_capacity < 1) return Error::Invalid("--queue-capacity must be at least 1");
    s.queue_capacity = *o.queue_capacity;
  }
  for (auto [v, flag, out] :
       {std::tuple{o.new_contacts_per_day, "--new-contacts-per-day", &s.new_contacts_per_day},
        std::tuple{o.new_contacts_per_hour, "--new-contacts-per-hour", &s.new_contacts_per_hour}}) {
    if (!v) continue;
    if (*v < 0) return Error::Invalid(std::string(flag) + " must be 0 (no limit) or more");
    *out = *v;
  }
  for (auto [text, flag, out] :
       {std::tuple{&o.new_contact_after, "--new-contact-after", &s.new_contact_after},
        std::tuple{&o.resolve_timeout, "--resolve-timeout", &s.resolve_timeout}}) {
    if (!*text) continue;
    auto d = ParseDuration(**text);
    if (!d || d->count() <= 0) {
      return Error::Invalid(std::string(flag) +
                            " must be a duration such as \"30d\", \"12h\" or \"90s\"");
    }
    *out = *d;
  }
  if (o.shared) s.shared = *o.shared;
  return s;
}

// --option changes: checked as the server will read them, then stored. Returns the options that
// now apply.
Result<carriers::CarrierOptions> SetOptions(const Config& c, store::Store& store,
                                            const store::Line& line,
                                            const std::vector<std::string>& args) {
  auto changes = OptionArguments(args);
  if (!changes.ok()) return changes.error();
  auto stored = carriers::OptionsFromJson(line.options_json);
  if (!stored.ok()) return stored.error();
  carriers::CarrierOptions next = stored.value();
  for (const auto& [k, v] : changes.value()) {
    if (v.empty()) {
      next.erase(k);
    } else {
      next[k] = v;
    }
  }
  store::Line probe = line;
  probe.options_json = carriers::OptionsToJson(next);
  auto effective = EffectiveOptions(c, probe);
  if (!effective.ok()) return effective.error();
  if (auto ok = CheckLineCarrier(line.carrier, effective.value()); !ok.ok()) {
    return Error::Invalid(ok.error().message + "\nNothing was changed.");
  }
  if (auto r = store.SetLineOptions(line.number, probe.options_json); !r.ok()) return r.error();
  return effective;
}

Result<int> LinesSet(const LineSetOptions& o) {
  Config c = Load(o.common);
  PhoneNumbers phones;
  auto e164 = phones.Normalize(o.number, "--number");
  if (!e164.ok()) return e164.error();
  auto store = OpenStore(c);
  auto line = store->FindLine(e164.value());
  if (!line.ok()) return NoLine(e164.value());
  auto s = NewSettings(o, line.value());
  if (!s.ok()) return s.error();
  bool options_changed = false;
  if (!o.options.empty()) {
    auto effective = SetOptions(c, *store, line.value(), o.options);
    if (!effective.ok()) return effective.error();
    options_changed = true;
    std::cout << "line " << e164.value() << " carrier " << line->carrier
              << " options now: " << OptionsText(effective.value())
              << "\n  (a running server reconnects the line with them within a second)\n";
  }
  auto updated = store->SetLineSettings(e164.value(), s.value());
  if (!updated.ok()) return updated.error();
  if (options_changed && s->empty() && !o.reset && line->settings.empty()) return 0;
  std::cout << "line " << updated->number
            << " (a running server applies this within a second); limits now, with "
            << (o.common.config ? "the config file " + *o.common.config
                                : std::string("the built-in defaults (no --config given)"))
            << " for what the line does not set:\n";
  PrintLimits(queue::EffectiveLimits(QueueSettingsOf(c), updated.value()), updated->settings);
  return 0;
}

struct LineRemoveOptions {
  CommonOptions common;
  std::string number, queued, move_to;
};

Result<int> LinesRemove(const LineRemoveOptions& o) {
  Config c = Load(o.common);
  PhoneNumbers phones;
  auto e164 = phones.Normalize(o.number, "--number");
  if (!e164.ok()) return e164.error();
  auto store = OpenStore(c);
  if (!store->FindLine(e164.value()).ok()) return NoLine(e164.value());
  std::string choice = o.queued;
  std::string move_to = o.move_to;
  if (choice.empty()) {
    auto queued = store->QueuedByLine(e164.value());
    if (!queued.ok()) return queued.error();
    const int64_t waiting = queued->contains(e164.value()) ? queued->at(e164.value()).total() : 0;
    if (waiting > 0 && ::isatty(STDIN_FILENO)) {
      std::cout << waiting << " messages wait in QUEUED on line " << e164.value()
                << ".\nFail them (ERROR 10001, their callbacks told), move them and the line's "
                   "contacts to another line, or cancel? [fail/move/cancel] "
                << std::flush;
      std::string answer;
      std::getline(std::cin, answer);
      if (answer != "fail" && answer != "move") {
        std::cout << "nothing removed\n";
        return 2;
      }
      choice = answer;
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
      return Error::Invalid("--queued move needs --move-to, another line of the same account: " +
                            to.error().message);
    }
    mode = store::QueuedOnRemoval::kMove;
    target = to.value();
  } else if (!choice.empty()) {
    return Error::Invalid("--queued must be fail or move");
  }
  auto removed = store->RemoveLine(e164.value(), mode, target);
  if (!removed.ok()) {
    if (removed.error().kind != ErrorKind::kConflict) return removed.error();
    return Error{ErrorKind::kConflict,
                 removed.error().message +
                     ".\nNothing was removed. Run again with --queued fail (they end in ERROR "
                     "10001, their callbacks told) or --queued move --move-to +1... (they and the "
                     "line's contacts move to that line of the same account).",
                 ErrorCode::kValidation,
                 {}};
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

struct LineListOptions {
  CommonOptions common;
  std::string email;
};

Result<int> LinesList(const LineListOptions& o) {
  Config c = Load(o.common);
  auto store = OpenStore(c);
  std::optional<int64_t> account_id;
  if (!o.email.empty()) {
    auto account = store->FindAccountByEmail(o.email);
    if (!account.ok()) return Error::Invalid("no account with email " + o.email);
    account_id = account->id;
  }
  auto lines = store->ListLines(account_id);
  if (!lines.ok()) return lines.error();
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
    if (!l.shared_with.empty()) {
      std::string with;
      for (int64_t id : l.shared_with) {
        auto account = store->FindAccount(id);
        with += (with.empty() ? "" : ", ") + (account.ok() ? account->email : std::to_string(id));
      }
      std::cout << "    shared with: " << with << "\n";
    }
  }
  std::cout << lines->size() << " line" << (lines->size() == 1 ? "" : "s") << "\n";
  return 0;
}

struct LineShareOptions {
  CommonOptions common;
  std::string number, email;
};

// Attaches an account to a shared line, or (`share` false) detaches it.
Result<int> ShareLine(const LineShareOptions& o, bool share) {
  Config c = Load(o.common);
  PhoneNumbers phones;
  auto e164 = phones.Normalize(o.number, "--number");
  if (!e164.ok()) return e164.error();
  auto store = OpenStore(c);
  auto existing = store->FindLine(e164.value());
  if (!existing.ok()) return NoLine(e164.value());
  if (share && !queue::EffectiveLimits(QueueSettingsOf(c), existing.value()).shared) {
    return Error::Invalid("line " + e164.value() +
                          " is not shared: only a shared (free-plan) line serves several "
                          "accounts (bluegate lines set --number " +
                          e164.value() + " --shared true)");
  }
  auto account = store->FindAccountByEmail(o.email);
  if (!account.ok()) return Error::Invalid("no account with email " + o.email);
  auto line = store->ShareLine(e164.value(), account->id, share);
  if (!line.ok()) return line.error();
  std::cout << "line " << line->number << (share ? " now serves " : " no longer serves ") << o.email
            << " (a running server applies this within a second); it serves "
            << 1 + line->shared_with.size() << " account" << (line->shared_with.empty() ? "" : "s")
            << "\n";
  return 0;
}

Result<int> LinesAttach(const LineShareOptions& o) { return ShareLine(o, true); }
Result<int> LinesDetach(const LineShareOptions& o) { return ShareLine(o, false); }

}  // namespace

void AddLineCommands(CLI::App& app, Command& chosen) {
  auto* lines = app.add_subcommand("lines", "Manage lines (the phone numbers accounts send from)");
  lines->require_subcommand(1);

  auto [add_cmd, add] = AddCommand<LineAddOptions>(
      lines, "add", "Add a line to an account; a running server sees it at once", chosen, LinesAdd);
  add_cmd->add_option("--account", add->email, "Email of the owning account")->required();
  add_cmd->add_option("--number", add->number, "The line's number in E.164 format")->required();
  add_cmd->add_option("--carrier", add->carrier,
                      "Carrier driving the line: sim (default), smpp or bluebubbles");
  add_cmd->add_option(
      "--option", add->options,
      "A carrier setting KEY=VALUE, repeatable. smpp: host, port, system_id, password (required: "
      "host, system_id, password), window, throughput, tls, ... bluebubbles: url, password "
      "(required), private_api, ... (docs/carriers.md; a wrong key lists the valid ones)");
  add_cmd->add_flag("--shared", add->shared,
                    "A shared (free-plan) line: sends only to verified contacts");

  auto [set_cmd, set] = AddCommand<LineSetOptions>(
      lines, "set",
      "Set a line's own limits (they win over the config file); a running server applies them "
      "within a second. Prints the limits that now apply",
      chosen, LinesSet);
  set_cmd->add_option("--number", set->number, "The line")->required();
  set_cmd->add_option("--burst-per-second", set->burst_per_second,
                      "Messages per second at most (0: no limit; default 10)");
  set_cmd->add_option("--queue-capacity", set->queue_capacity,
                      "Messages waiting in QUEUED at most; past it sends get 429 (default 1500)");
  set_cmd->add_option("--new-contacts-per-day", set->new_contacts_per_day,
                      "New contacts per day from 03:00 New York (0: no limit; default 50)");
  set_cmd->add_option("--new-contacts-per-hour", set->new_contacts_per_hour,
                      "New contacts per rolling hour (0: no limit; default 15)");
  set_cmd->add_option("--new-contact-after", set->new_contact_after,
                      "Silence after which a contact is new again, e.g. 30d (default)");
  set_cmd->add_option("--resolve-timeout", set->resolve_timeout,
                      "ERROR 10002 when the carrier reports nothing this long, e.g. 5m");
  set_cmd->add_option("--shared", set->shared,
                      "true: send only to verified contacts (a shared, free-plan line)");
  set_cmd->add_option("--option", set->options,
                      "Change a carrier setting KEY=VALUE (KEY= removes it), repeatable; a "
                      "running server reconnects the line with the new settings");
  set_cmd->add_flag("--reset", set->reset,
                    "Drop the line's own limits first (back to the config file's)");

  auto [remove_cmd, remove] = AddCommand<LineRemoveOptions>(
      lines, "remove",
      "Remove a line. Messages waiting on it are never dropped silently: without --queued, "
      "asks (or, without a terminal, exits 2 and removes nothing)",
      chosen, LinesRemove);
  remove_cmd->add_option("--number", remove->number, "The line")->required();
  remove_cmd
      ->add_option("--queued", remove->queued,
                   "What becomes of messages waiting in QUEUED: fail (ERROR 10001, "
                   "callbacks told) or move (to --move-to, with the line's contacts)")
      ->check(CLI::IsMember({"fail", "move"}));
  remove_cmd->add_option("--move-to", remove->move_to,
                         "With --queued move: another line of the same account");

  for (bool share : {true, false}) {
    auto [cmd, o] = AddCommand<LineShareOptions>(
        lines, share ? "attach" : "detach",
        share ? "Let another account send from a shared (free-plan) line; it hears the contacts "
                "it registers there"
              : "Stop a shared line serving an account (its messages and contacts stay)",
        chosen, share ? LinesAttach : LinesDetach);
    cmd->add_option("--number", o->number, "The shared line")->required();
    cmd->add_option("--account", o->email, "The account's email")->required();
  }

  auto [list_cmd, list] = AddCommand<LineListOptions>(
      lines, "list", "List lines: number, carrier, owning account", chosen, LinesList);
  list_cmd->add_option("--account", list->email, "Only this account's lines (its email)");
}

}  // namespace bluegate::app
