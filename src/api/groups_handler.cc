// Group messages: POST /api/send-group-message, POST /api/modify-group, GET /api/v2/groups/{id}.
#include <algorithm>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "api/api.h"
#include "api/http_errors.h"
#include "api/request_decoding.h"
#include "core/message_json.h"

namespace bluegate::api {
namespace {

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

constexpr size_t kMinParticipants = 2;
constexpr size_t kMaxParticipants = 25;

std::string GroupJson(const store::Group& g) {
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  w.Key("status");
  w.String("OK");
  w.Key("data");
  w.StartObject();
  w.Key("group_id");
  w.String(g.id.c_str());
  w.Key("sendblue_number");
  w.String(g.line.c_str());
  w.Key("participants");
  w.StartArray();
  for (const auto& p : g.participants) w.String(p.c_str());
  w.EndArray();
  w.Key("group_display_name");
  if (g.display_name.empty()) {
    w.Null();
  } else {
    w.String(g.display_name.c_str());
  }
  const std::string created = FormatIso8601(g.created_at);
  const std::string updated = FormatIso8601(g.updated_at);
  w.Key("created_at");
  w.String(created.c_str());
  w.Key("updated_at");
  w.String(updated.c_str());
  w.EndObject();
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace

void HandleSendGroupMessage(ApiContext& ctx, const Principal& principal, HttpRequest req,
                            Responder respond) {
  auto body = ParseJsonObject(req);
  if (!body.ok()) return respond(ErrorResponse(body.error()));
  const auto& doc = body.value();
  auto group_id = StringMember(doc, "group_id");
  if (!group_id.ok()) return respond(ErrorResponse(group_id.error()));

  std::vector<std::string> numbers;
  if (auto it = doc.FindMember("numbers"); it != doc.MemberEnd() && !it->value.IsNull()) {
    if (!it->value.IsArray()) {
      return respond(ErrorResponse(Error::Invalid("numbers must be an array of phone numbers")));
    }
    for (rapidjson::SizeType i = 0; i < it->value.Size(); ++i) {
      const std::string field = "numbers[" + std::to_string(i) + "]";
      if (!it->value[i].IsString()) {
        return respond(ErrorResponse(Error::Invalid(field + " must be a string")));
      }
      auto n = ctx.phones.Normalize(it->value[i].GetString(), field);
      if (!n.ok()) return respond(ErrorResponse(n.error()));
      if (std::find(numbers.begin(), numbers.end(), n.value()) == numbers.end()) {
        numbers.push_back(n.value());
      }
    }
  }
  if (!group_id.value() && numbers.empty()) {
    return respond(ErrorResponse(Error::Invalid(
        "numbers (2 to 25 phone numbers) or group_id is required for a group message")));
  }
  if (!group_id.value() &&
      (numbers.size() < kMinParticipants || numbers.size() > kMaxParticipants)) {
    return respond(
        ErrorResponse(Error::Invalid("numbers must hold 2 to 25 different phone numbers; got " +
                                     std::to_string(numbers.size()))));
  }

  // The body's other fields are checked as send-message checks them (content, media_url,
  // send_style, status_callback), with a participant standing in for `number`.
  auto decoded = DecodeSendRequest(req);
  if (!decoded.ok()) return respond(ErrorResponse(decoded.error()));
  SendRequest check = decoded.value();
  check.number = numbers.empty() ? std::string("+14155550100") : numbers.front();
  auto valid = ValidateSend(check, ctx.phones);
  if (!valid.ok()) return respond(ErrorResponse(valid.error()));

  std::optional<store::Group> group;
  if (group_id.value()) {
    auto g = ctx.store.contacts.FindGroup(principal.account.id, **group_id);
    if (!g.ok()) return respond(ErrorResponse(g.error()));
    group = g.value();
    if (!valid->line.empty() && valid->line != group->line) {
      return respond(
          ErrorResponse(Error::Invalid("group " + group->id + " is on line " + group->line +
                                       ", not from_number " + valid->line)));
    }
  } else if (valid->line.empty()) {
    // A new group without from_number goes from the line a 1:1 send would pick: the first
    // participant's bound line, else the pool's best.
    auto picked = ctx.outbound.LineFor(principal.account.id, numbers.front(), "");
    if (!picked.ok()) return respond(ErrorResponse(picked.error()));
    valid->line = picked->number;
  }
  const std::string line_number = group ? group->line : valid->line;
  auto line = ctx.outbound.FindLineServing(line_number, principal.account.id);
  if (!line) {
    return respond(ErrorResponse(
        Error::Invalid("from_number " + line_number +
                       " is not a line of this account (GET /api/lines lists them)")));
  }
  if (!group) {
    auto g = ctx.store.contacts.FindOrCreateGroup(principal.account.id, line->number, numbers,
                                                  ctx.ids.NewUuid());
    if (!g.ok()) return respond(ErrorResponse(g.error()));
    group = g.value();
  }

  ValidSend send = std::move(valid).value();
  send.contact.clear();  // a group has no one recipient
  Message m = NewOutboundMessage(ctx, principal, line->number, std::move(send));
  m.message_type = "group";
  m.group_id = group->id;
  m.participants = group->participants;
  m.group_display_name = group->display_name;
  ctx.outbound.Submit(*line, std::move(m), false,
                      [respond = std::move(respond)](Result<Message> stored) {
                        if (!stored.ok()) return respond(ErrorResponse(stored.error()));
                        respond(JsonResponse(200, RenderMessageJson(stored.value())));
                      });
}

void HandleModifyGroup(ApiContext& ctx, const Principal& principal, const HttpRequest& req,
                       Responder respond) {
  auto body = ParseJsonObject(req);
  if (!body.ok()) return respond(ErrorResponse(body.error()));
  const auto& doc = body.value();
  auto group_id = StringMember(doc, "group_id");
  if (!group_id.ok()) return respond(ErrorResponse(group_id.error()));
  if (!group_id.value()) return respond(ErrorResponse(Error::Invalid("group_id is required")));
  auto type = StringMember(doc, "modify_type");
  if (!type.ok()) return respond(ErrorResponse(type.error()));
  if (!type.value() || (**type != "add_recipient" && **type != "remove_recipient")) {
    return respond(
        ErrorResponse(Error::Invalid("modify_type must be add_recipient or remove_recipient")));
  }
  auto number = StringMember(doc, "number");
  if (!number.ok()) return respond(ErrorResponse(number.error()));
  if (!number.value()) return respond(ErrorResponse(Error::Invalid("number is required")));
  auto n = ctx.phones.Normalize(**number, "number");
  if (!n.ok()) return respond(ErrorResponse(n.error()));
  auto g = ctx.store.contacts.ModifyGroup(principal.account.id, **group_id,
                                          **type == "add_recipient", n.value());
  if (!g.ok()) return respond(ErrorResponse(g.error()));
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  w.Key("status");
  w.String("OK");
  w.Key("group_id");
  w.String(g->id.c_str());
  w.Key("modify_type");
  w.String(type.value()->c_str());
  w.Key("number");
  w.String(n->c_str());
  w.Key("participants");
  w.StartArray();
  for (const auto& p : g->participants) w.String(p.c_str());
  w.EndArray();
  w.Key("error");
  w.Null();
  w.Key("error_message");
  w.Null();
  w.EndObject();
  respond(JsonResponse(200, std::string(buf.GetString(), buf.GetSize())));
}

void HandleGetGroup(ApiContext& ctx, const Principal& principal, std::string_view id,
                    Responder respond) {
  auto g = ctx.store.contacts.FindGroup(principal.account.id, id);
  if (!g.ok()) return respond(ErrorResponse(g.error()));
  respond(JsonResponse(200, GroupJson(g.value())));
}

}  // namespace bluegate::api
