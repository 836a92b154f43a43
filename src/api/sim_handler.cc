// POST /api/v2/sim/inbound: play the recipient on a simulator line (not part of Sendblue's API).
// The message is stored exactly as a carrier's inbound report would be.
#include <algorithm>

#include "api/api.h"
#include "api/http_errors.h"
#include "api/request_decoding.h"
#include "carriers/sim/sim_carrier.h"
#include "core/message_json.h"

namespace bluegate::api {
namespace {

Result<std::string> Field(const rapidjson::Document& doc, std::initializer_list<const char*> names,
                          bool required) {
  for (const char* n : names) {
    auto it = doc.FindMember(n);
    if (it == doc.MemberEnd() || it->value.IsNull()) continue;
    if (!it->value.IsString()) return Error::Invalid(std::string(n) + " must be a string");
    return std::string(it->value.GetString(), it->value.GetStringLength());
  }
  if (required) return Error::Invalid(std::string(*names.begin()) + " is required");
  return std::string();
}

}  // namespace

void HandleSimInbound(ApiContext& ctx, const Principal& principal, const HttpRequest& req,
                      Responder respond) {
  auto body = ParseJsonObject(req);
  if (!body.ok()) return respond(ErrorResponse(body.error()));
  const auto& doc = body.value();
  auto group_id = Field(doc, {"group_id"}, false);
  if (!group_id.ok()) return respond(ErrorResponse(group_id.error()));
  std::optional<store::Group> group;
  if (!group_id->empty()) {
    auto g = ctx.store.contacts.FindGroup(principal.account.id, group_id.value());
    if (!g.ok()) return respond(ErrorResponse(g.error()));
    group = g.value();
  }
  auto line_text = Field(doc, {"line", "sendblue_number", "to_number"}, !group);
  if (!line_text.ok()) return respond(ErrorResponse(line_text.error()));
  if (group && line_text->empty()) line_text = group->line;
  auto from_text = Field(doc, {"from", "number", "from_number"}, true);
  if (!from_text.ok()) return respond(ErrorResponse(from_text.error()));
  auto content = Field(doc, {"content"}, false);
  if (!content.ok()) return respond(ErrorResponse(content.error()));
  auto media = Field(doc, {"media_url"}, false);
  if (!media.ok()) return respond(ErrorResponse(media.error()));
  if (content->empty() && media->empty()) {
    return respond(ErrorResponse(Error::Invalid("content or media_url is required")));
  }
  auto line_number = ctx.phones.Normalize(line_text.value(), "line");
  if (!line_number.ok()) return respond(ErrorResponse(line_number.error()));
  auto from = ctx.phones.Normalize(from_text.value(), "from");
  if (!from.ok()) return respond(ErrorResponse(from.error()));
  auto line = ctx.outbound.FindLineServing(line_number.value(), principal.account.id);
  if (!line) {
    return respond(ErrorResponse(
        Error::Invalid("line " + line_number.value() + " is not a line of this account")));
  }
  if (line->carrier != "sim") {
    return respond(ErrorResponse(
        Error::Invalid("line " + line->number + " is driven by carrier \"" + line->carrier +
                       "\": only simulator lines take simulated inbound messages")));
  }
  if (group) {
    if (group->line != line->number) {
      return respond(
          ErrorResponse(Error::Invalid("group " + group->id + " is on line " + group->line)));
    }
    const auto& p = group->participants;
    if (std::find(p.begin(), p.end(), from.value()) == p.end()) {
      return respond(
          ErrorResponse(Error::Invalid("from " + from.value() + " is not in group " + group->id)));
    }
  }
  carriers::CarrierEvent e;
  e.kind = carriers::CarrierEvent::Kind::kInbound;
  e.at = ctx.clock.Now();
  e.line = line->number;
  e.from = from.value();
  e.content = content.value();
  e.media_url = media.value();
  // The simulator's SMS-only number writes over SMS, as its phone would.
  e.service = carriers::sim::BehaviourFor(e.from) == carriers::sim::SimBehaviour::kSmsOnly
                  ? Service::kSms
                  : Service::kIMessage;
  if (group) {
    e.group_id = group->id;
    e.participants = group->participants;
  }
  const int64_t account = principal.account.id;
  const store::Account who = principal.account;
  ctx.outbound.RecordInbound(
      *line, std::move(e),
      [respond, account, who, line = line->number](Result<std::vector<Message>> stored) {
        if (!stored.ok()) return respond(ErrorResponse(stored.error()));
        for (Message m : stored.value()) {
          if (m.account_id != account) continue;
          m.account_email = who.email;  // as a read of the message would say
          m.plan = who.plan;
          return respond(
              JsonResponse(200, R"({"status":"OK","data":)" + RenderMessageJson(m) + "}"));
        }
        // A shared line: the sender is not this account's contact (whether another account's is not
        // this account's to know).
        respond(JsonResponse(200,
                             "{\"status\":\"OK\",\"routed\":false,\"message\":\"The sender is "
                             "not a contact of this account on shared line " +
                                 line +
                                 ": the message was kept for the operator (add the number as "
                                 "a contact first)\"}"));
      });
}

}  // namespace bluegate::api
