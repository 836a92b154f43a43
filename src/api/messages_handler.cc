// POST /api/send-message and GET /api/status.
#include "api/api.h"
#include "api/http_errors.h"
#include "api/request_decoding.h"
#include "core/message_json.h"

namespace bluegate::api {

void SubmitOutbound(ApiContext& ctx, const Principal& principal, ValidSend send, bool verification,
                    std::function<void(Result<Message>)> done) {
  auto line = ctx.outbound.LineFor(principal.account.id, send.contact, send.line);
  if (!line.ok()) return done(line.error());
  Message m = NewOutboundMessage(ctx, principal, line->number, std::move(send));
  ctx.outbound.Submit(line.value(), std::move(m), verification, std::move(done));
}

Message NewOutboundMessage(ApiContext& ctx, const Principal& principal, const std::string& line,
                           ValidSend send) {
  Message m;
  m.handle = ctx.ids.NewUuid();
  m.account_id = principal.account.id;
  m.account_email = principal.account.email;
  m.plan = principal.account.plan;
  m.is_outbound = true;
  m.content = std::move(send.content);
  m.media_url = std::move(send.media_url);
  m.send_style = std::move(send.send_style);
  m.status_callback = std::move(send.status_callback);
  m.status = Status::kQueued;
  m.line_number = line;
  m.contact = std::move(send.contact);
  m.date_created = ctx.clock.Now();
  m.date_updated = m.date_created;
  return m;
}

void HandleSendMessage(ApiContext& ctx, const Principal& principal, HttpRequest req,
                       Responder respond) {
  auto decoded = DecodeSendRequest(req);
  if (!decoded.ok()) return respond(ErrorResponse(decoded.error()));
  auto valid = ValidateSend(decoded.value(), ctx.phones);
  if (!valid.ok()) return respond(ErrorResponse(valid.error()));
  SubmitOutbound(ctx, principal, std::move(valid).value(), false,
                 [respond = std::move(respond)](Result<Message> stored) {
                   if (!stored.ok()) return respond(ErrorResponse(stored.error()));
                   respond(JsonResponse(200, RenderMessageJson(stored.value())));
                 });
}

void HandleGetStatus(ApiContext& ctx, const Principal& principal, const HttpRequest& req,
                     Responder respond) {
  auto query = ParseQuery(req.query);
  auto it = query.find("handle");
  if (it == query.end() || it->second.empty()) it = query.find("message_handle");
  if (it == query.end() || it->second.empty()) {
    return respond(ErrorResponse(
        Error::Invalid("handle is required: the message_handle returned by send-message "
                       "(?handle= or ?message_handle=)")));
  }
  auto m = ctx.store.messages.FindMessage(principal.account.id, it->second);
  if (!m.ok()) return respond(ErrorResponse(m.error()));
  respond(JsonResponse(200, RenderMessageJson(m.value())));
}

}  // namespace bluegate::api

// GET /api/v2/messages and GET /api/v2/messages/{handle}.
#include <charconv>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace bluegate::api {
namespace {

constexpr int kDefaultPageSize = 100;
constexpr int kMaxPageSize = 1000;

Result<std::optional<TimePoint>> TimeParam(const std::map<std::string, std::string>& q,
                                           const char* name) {
  auto it = q.find(name);
  if (it == q.end() || it->second.empty()) return std::optional<TimePoint>();
  auto t = ParseIso8601(it->second);
  if (!t)
    return Error::Invalid(std::string(name) +
                          " must be an ISO 8601 date such as 2025-12-12T15:35:35.410Z");
  return std::optional<TimePoint>(*t);
}

std::optional<std::string> StrParam(const std::map<std::string, std::string>& q, const char* name,
                                    bool phone = false) {
  auto it = q.find(name);
  if (it == q.end() || it->second.empty()) return std::nullopt;
  return phone ? NormalizeQueryPhone(it->second) : it->second;
}

Result<store::MessageQuery> ParseListQuery(const std::map<std::string, std::string>& q,
                                           int64_t account_id) {
  store::MessageQuery out;
  out.account_id = account_id;
  out.number = StrParam(q, "number", true);
  out.from_number = StrParam(q, "from_number", true);
  out.to_number = StrParam(q, "to_number", true);
  out.line = StrParam(q, "sendblue_number", true);
  out.group_id = StrParam(q, "group_id");
  if (auto t = StrParam(q, "message_type")) {
    if (*t != "message" && *t != "group")
      return Error::Invalid("message_type must be message or group; use is_outbound for direction");
    out.message_type = *t;
  }
  if (auto v = StrParam(q, "is_outbound")) {
    if (*v != "true" && *v != "false") return Error::Invalid("is_outbound must be true or false");
    out.is_outbound = *v == "true";
  }
  if (auto v = StrParam(q, "status")) {
    auto s = StatusFromName(*v);
    if (!s) return Error::Invalid("status \"" + *v + "\" is not a message status");
    out.status = *s;
  }
  if (auto v = StrParam(q, "service")) {
    if (*v == "RCS") {
      out.service = Service::kSms;
      out.status = Status::kReceived;  // bluegate sends no RCS: match nothing outbound
      out.is_outbound = true;
    } else {
      auto s = ServiceFromName(*v);
      if (!s) return Error::Invalid("service must be iMessage, SMS or RCS");
      out.service = *s;
    }
  }
  auto limit = IntQueryParam(q, "limit", kDefaultPageSize, 1, kMaxPageSize);
  if (!limit.ok()) return limit.error();
  out.limit = limit.value();
  auto offset = IntQueryParam(q, "offset", 0, 0, 1'000'000'000);
  if (!offset.ok()) return offset.error();
  out.offset = offset.value();
  if (auto v = StrParam(q, "order_by")) {
    if (*v == "updatedAt" || *v == "updated_at")
      out.order_by = store::MessageQuery::Order::kUpdated;
    else if (*v != "createdAt" && *v != "sentAt" && *v != "created_at" && *v != "sent_at")
      return Error::Invalid(
          "order_by must be createdAt, updatedAt or sentAt (or created_at, updated_at, sent_at)");
  }
  if (auto v = StrParam(q, "order_direction")) {
    if (*v != "asc" && *v != "desc") return Error::Invalid("order_direction must be asc or desc");
    out.descending = *v == "desc";
  }
  struct {
    const char* name;
    std::optional<TimePoint>* field;
  } times[] = {{"created_at_gte", &out.created_gte}, {"created_at_lte", &out.created_lte},
               {"sent_at_gte", &out.created_gte},    {"sent_at_lte", &out.created_lte},
               {"updated_at_gte", &out.updated_gte}, {"updated_at_lte", &out.updated_lte}};
  for (auto& t : times) {
    auto v = TimeParam(q, t.name);
    if (!v.ok()) return v.error();
    if (v.value()) *t.field = v.value();
  }
  return out;
}

}  // namespace

namespace {

// A page of history under `key` ("data", or the legacy "messages").
void ListMessagesAs(ApiContext& ctx, const Principal& principal, const HttpRequest& req,
                    const Responder& respond, const char* key) {
  auto query = ParseListQuery(ParseQuery(req.query), principal.account.id);
  if (!query.ok()) return respond(ErrorResponse(query.error()));
  auto page = ctx.store.messages.ListMessages(query.value());
  if (!page.ok()) return respond(ErrorResponse(page.error()));
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("status");
  w.String("OK");
  w.Key(key);
  w.StartArray();
  for (const auto& m : page->data) {
    const std::string json = RenderMessageJson(m);
    w.RawValue(json.data(), json.size(), rapidjson::kObjectType);
  }
  w.EndArray();
  w.Key("pagination");
  w.StartObject();
  w.Key("total");
  w.Int64(page->total);
  w.Key("limit");
  w.Int(query->limit);
  w.Key("offset");
  w.Int(query->offset);
  w.Key("hasMore");
  w.Bool(query->offset + static_cast<int64_t>(page->data.size()) < page->total);
  w.EndObject();
  w.EndObject();
  respond(JsonResponse(200, std::string(buf.GetString(), buf.GetSize())));
}

}  // namespace

void HandleListMessages(ApiContext& ctx, const Principal& principal, const HttpRequest& req,
                        Responder respond) {
  ListMessagesAs(ctx, principal, req, respond, "data");
}

void HandleLegacyListMessages(ApiContext& ctx, const Principal& principal, const HttpRequest& req,
                              Responder respond) {
  ListMessagesAs(ctx, principal, req, respond, "messages");
}

void HandleGetMessage(ApiContext& ctx, const Principal& principal, std::string_view handle,
                      Responder respond) {
  auto m = ctx.store.messages.FindMessage(principal.account.id, handle);
  if (!m.ok()) return respond(ErrorResponse(m.error()));
  respond(JsonResponse(200, R"({"status":"OK","data":)" + RenderMessageJson(m.value()) + "}"));
}

}  // namespace bluegate::api
