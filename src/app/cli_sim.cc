// bluegate sim inbound
#include <fmt/format.h>

#include <future>
#include <iostream>

#include "app/cli_command.h"
#include "app/wiring.h"
#include "carriers/sim/sim_carrier.h"
#include "core/phone.h"
#include "core/text.h"
#include "queue/outbound.h"

namespace bluegate::app {
namespace {

struct SimInboundOptions {
  CommonOptions common;
  std::string line, from, content, media_url;
};

// Plays the recipient on a simulator line: stores the message as the carrier's inbound report
// would. A running server delivers its webhooks through its re-queue poll and publishes its
// events (/api/v2/events) through its relay (app/event_relay.h), each within a second.
Result<int> SimInbound(const SimInboundOptions& o) {
  Config c = Load(o.common);
  PhoneNumbers phones(c.blocked_numbers);
  auto line_number = phones.Normalize(o.line, "--line");
  if (!line_number.ok()) return line_number.error();
  auto from = phones.Normalize(o.from, "--from");
  if (!from.ok()) return from.error();
  if (o.content.empty() && o.media_url.empty()) {
    return Error::Invalid("--content or --media-url is required");
  }
  auto store = OpenStore(c);
  auto line = store->FindLine(line_number.value());
  if (!line.ok()) {
    return Error::Invalid("no line " + line_number.value() + " (see `bluegate lines list`)");
  }
  if (line->carrier != "sim") {
    return Error::Invalid("line " + line->number + " is driven by carrier \"" + line->carrier +
                          "\": only simulator lines take simulated inbound messages");
  }
  carriers::CarrierEvent e;
  e.kind = carriers::CarrierEvent::Kind::kInbound;
  e.at = SystemClock().Now();
  e.line = line->number;
  e.from = from.value();
  e.content = o.content;
  e.media_url = o.media_url;
  // The simulator's SMS-only number writes over SMS, as its phone would.
  e.service = carriers::sim::BehaviourFor(e.from) == carriers::sim::SimBehaviour::kSmsOnly
                  ? Service::kSms
                  : Service::kIMessage;
  Message inbound = queue::InboundMessage(line.value(), e, SecureIds());
  std::promise<Result<std::vector<Message>>> stored;
  queue::StoreInbound(
      *store, line.value(), queue::EffectiveLimits(QueueSettingsOf(c), line.value()).shared,
      std::move(inbound),
      [&stored](Result<std::vector<Message>> r) { stored.set_value(std::move(r)); });
  auto messages = stored.get_future().get();
  if (!messages.ok()) return messages.error();
  for (const Message& m : messages.value()) {
    std::cout << "received " << m.handle << " on " << m.line_number << " from " << m.contact
              << (m.opted_out ? " (the contact is now opted out)" : "") << "\n";
  }
  if (messages->empty()) {
    std::cout << "no account on shared line " << line->number << " has " << from.value()
              << " as a contact: the message was kept for the operator (bluegate inbound "
                 "unrouted)\n";
  }
  return 0;
}

struct UnroutedOptions {
  CommonOptions common;
  std::string line;
  int limit = 50;
};

// What reached shared lines from numbers no account registered.
Result<int> InboundUnrouted(const UnroutedOptions& o) {
  Config c = Load(o.common);
  if (o.limit < 1 || o.limit > 1000) return Error::Invalid("--limit must be 1 to 1000");
  std::optional<std::string> line;
  if (!o.line.empty()) {
    PhoneNumbers phones;
    auto e164 = phones.Normalize(o.line, "--line");
    if (!e164.ok()) return e164.error();
    line = e164.value();
  }
  auto store = OpenStore(c);
  auto kept = store->ListUnrouted(line, o.limit);
  if (!kept.ok()) return kept.error();
  std::cout << fmt::format("{:>8}  {:<24}  {:<16}  {:<16}  {}\n", "ID", "RECEIVED", "LINE", "FROM",
                           "CONTENT");
  for (const auto& m : kept.value()) {
    std::string text = m.content + (m.media_url.empty() ? "" : " " + m.media_url);
    if (text.size() > 60) text = text.substr(0, 57) + "...";
    std::cout << fmt::format("{:>8}  {:<24}  {:<16}  {:<16}  {}\n", m.id, FormatIso8601(m.at),
                             m.line, m.from, ForLog(text, 80));
  }
  std::cout << kept->size() << " message" << (kept->size() == 1 ? "" : "s")
            << " kept (newest first): each came from a number no account on its shared line had "
               "as a contact\n";
  return 0;
}

}  // namespace

void AddSimCommands(CLI::App& app, Command& chosen) {
  auto* inbound_cmd = app.add_subcommand("inbound", "Inbound messages that reached no account");
  inbound_cmd->require_subcommand(1);
  auto [unrouted, u] = AddCommand<UnroutedOptions>(
      inbound_cmd, "unrouted",
      "List messages to shared lines from numbers no account registered (kept, never lost)", chosen,
      InboundUnrouted);
  unrouted->add_option("--line", u->line, "Only this shared line's");
  unrouted->add_option("--limit", u->limit, "At most this many (1-1000, default 50)");

  auto* sim = app.add_subcommand("sim", "Play the other side of a simulator line");
  sim->require_subcommand(1);
  auto [inbound, o] = AddCommand<SimInboundOptions>(
      sim, "inbound",
      "Store a message from a contact to a simulator line, as its carrier would report it "
      "(receive webhooks, route binding, STOP/START); also POST /api/v2/sim/inbound",
      chosen, SimInbound);
  inbound->add_option("--line", o->line, "The simulator line that receives it")->required();
  inbound->add_option("--from", o->from, "The contact's number (E.164)")->required();
  inbound->add_option("--content", o->content, "The message text");
  inbound->add_option("--media-url", o->media_url, "An attachment's URL");
}

}  // namespace bluegate::app
