// What a line's carrier hears (inbound messages, to their accounts, and typing) and the signals
// sent on a line (lookups, typing, read receipts, reactions).
#include <spdlog/spdlog.h>

#include "core/account_events.h"
#include "core/message_json.h"
#include "queue/outbound.h"

namespace bluegate::queue {

Message InboundMessage(const store::Line& line, const carriers::CarrierEvent& event,
                       IdGenerator& ids) {
  Message m;
  m.handle = ids.NewUuid();
  m.account_id = line.account_id;
  m.is_outbound = false;
  m.line_number = line.number;
  m.contact = event.from;
  m.content = event.content;
  m.media_url = event.media_url;
  m.service = event.service.value_or(Service::kIMessage);
  m.date_created = event.at;
  m.date_updated = event.at;
  if (!event.group_id.empty()) {
    m.message_type = "group";
    m.group_id = event.group_id;
    m.participants = event.participants;
  }
  return m;
}

void StoreInbound(store::MessageLog& log, const store::Line& line, bool shared, Message m,
                  std::function<void(Result<std::vector<Message>>)> done) {
  // A shared (free-plan) line's contacts reach only the accounts that registered them; a group
  // stays with the line's owner, who made it.
  if (shared && m.message_type != "group") {
    std::vector<int64_t> accounts{line.account_id};
    accounts.insert(accounts.end(), line.shared_with.begin(), line.shared_with.end());
    return log.RecordSharedInbound(std::move(m), std::move(accounts), std::move(done));
  }
  log.RecordInbound(std::move(m), [done = std::move(done)](Result<Message> r) {
    if (!r.ok()) return done(r.error());
    done(std::vector<Message>{std::move(r).value()});
  });
}

void Outbound::RecordInbound(const store::Line& line, carriers::CarrierEvent event,
                             std::function<void(Result<std::vector<Message>>)> done) {
  Message m = InboundMessage(line, event, ids_);
  Metrics& metrics = metrics_;
  EventHub* events = settings_.events;
  auto told = [&metrics, events](const Message& r) {
    metrics.CountStatus(Status::kReceived);
    if (events) {
      events->Publish(r.account_id, "message.received", RenderMessageJson(r), r.date_created);
    }
  };
  StoreInbound(store_.log, line, LimitsFor(line).shared, std::move(m),
               [&metrics, told, number = line.number,
                done = std::move(done)](Result<std::vector<Message>> r) {
                 if (r.ok()) {
                   for (const auto& each : r.value()) told(each);
                   if (r->empty()) {
                     metrics.CountUnroutedInbound();
                     spdlog::info(
                         "line {}: an inbound message from a number no account registered was "
                         "kept for the operator (bluegate inbound unrouted)",
                         number);
                   }
                 }
                 if (done) done(std::move(r));
               });
}

void Outbound::Lookup(const store::Line& line, std::string address,
                      std::function<void(carriers::LookupResult)> done) {
  Driver(line)->Lookup(address, std::move(done));
}

void Outbound::SendSignal(const store::Line& line, carriers::Signal signal,
                          std::function<void(Result<Ok>)> done) {
  Driver(line)->Send(std::move(signal), std::move(done));
}

void Outbound::RecordTyping(const store::Line& line, const carriers::CarrierEvent& event) {
  std::string payload = TypingJson(event.from, event.is_typing, line.number, event.at);
  if (settings_.events) {
    settings_.events->Publish(line.account_id, "typing.changed", payload, event.at);
  }
  store_.log.RecordEvent(line.account_id, "typing_indicator", std::move(payload), line.number,
                         [](Result<Ok> r) {
                           if (!r.ok())
                             spdlog::warn("typing_indicator not queued: {}", r.error().message);
                         });
}

void Outbound::Heard(const store::Line& line, carriers::CarrierEvent event) {
  if (event.kind == carriers::CarrierEvent::Kind::kTyping) return RecordTyping(line, event);
  // The driver's copy of a shared line may predate accounts attached since (lines attach).
  if (LimitsFor(line).shared) {
    if (auto current = FindLine(line.number)) {
      return RecordInbound(*current, std::move(event), nullptr);
    }
  }
  RecordInbound(line, std::move(event), nullptr);
}

}  // namespace bluegate::queue
