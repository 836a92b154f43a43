// POST /api/send-message and GET /api/status.
#include "api/api.h"
#include "api/http_errors.h"
#include "api/request_decoding.h"
#include "core/message_json.h"

namespace bluegate::api {

void HandleSendMessage(ApiContext& ctx, const Principal& principal, HttpRequest req, Responder respond) {
  auto decoded = DecodeSendRequest(req);
  if (!decoded.ok()) return respond(ErrorResponse(decoded.error()));
  auto valid = ValidateSend(decoded.value(), ctx.phones);
  if (!valid.ok()) return respond(ErrorResponse(valid.error()));
  ValidSend& send = valid.value();
  if (send.line.empty()) {
    return respond(ErrorResponse(Error::Invalid(
        "from_number is required: the line of your account to send from, in E.164 format")));
  }
  auto line = ctx.outbound.FindLine(send.line);
  if (!line || line->account_id != principal.account.id) {
    return respond(ErrorResponse(Error::Invalid("from_number " + send.line +
                                                " is not a line of this account (GET /api/lines lists them)")));
  }
  if (auto reserved = ctx.outbound.Reserve(*line); !reserved.ok()) {
    return respond(ErrorResponse(reserved.error()));
  }

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
  m.line_number = line->number;
  m.contact = std::move(send.contact);
  m.date_created = ctx.clock.Now();
  m.date_updated = m.date_created;

  ctx.store.Accept(std::move(m), [&ctx, line_number = line->number,
                                   respond = std::move(respond)](Result<Message> stored) {
    if (!stored.ok()) {
      // Nothing was stored: give the queue place back.
      ctx.outbound.CancelReservation(line_number);
      return respond(ErrorResponse(stored.error()));
    }
    const Message& msg = stored.value();
    ctx.metrics.CountStatus(Status::kRegistered);
    ctx.metrics.CountStatus(Status::kPending);
    ctx.metrics.CountStatus(msg.status);
    if (msg.status == Status::kQueued) {
      ctx.outbound.Enqueue(msg);
    } else {
      ctx.outbound.CancelReservation(msg.line_number);
    }
    respond(JsonResponse(200, RenderMessageJson(msg)));
  });
}

void HandleGetStatus(ApiContext& ctx, const Principal& principal, const HttpRequest& req, Responder respond) {
  auto query = ParseQuery(req.query);
  auto it = query.find("handle");
  if (it == query.end() || it->second.empty()) {
    return respond(ErrorResponse(Error::Invalid("handle is required: the message_handle returned by send-message")));
  }
  auto m = ctx.store.FindMessage(principal.account.id, it->second);
  if (!m.ok()) return respond(ErrorResponse(m.error()));
  respond(JsonResponse(200, RenderMessageJson(m.value())));
}

}  // namespace bluegate::api
