// bluegate sim inbound
#include <future>
#include <iostream>

#include "app/cli_command.h"
#include "app/wiring.h"
#include "core/phone.h"
#include "queue/outbound.h"

namespace bluegate::app {
namespace {

struct SimInboundOptions {
  CommonOptions common;
  std::string line, from, content, media_url;
};

// Plays the recipient on a simulator line: stores the message as the carrier's inbound report
// would. A running server delivers its webhooks through its re-queue poll.
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
  e.service = Service::kIMessage;
  std::promise<Result<Message>> stored;
  store->RecordInbound(queue::InboundMessage(line.value(), e, SecureIds()),
                       [&stored](Result<Message> r) { stored.set_value(std::move(r)); });
  auto m = stored.get_future().get();
  if (!m.ok()) return m.error();
  std::cout << "received " << m->handle << " on " << m->line_number << " from " << m->contact
            << (m->opted_out ? " (the contact is now opted out)" : "") << "\n";
  return 0;
}

}  // namespace

void AddSimCommands(CLI::App& app, Command& chosen) {
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
