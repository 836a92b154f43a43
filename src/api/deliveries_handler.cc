// The webhook delivery log: GET /api/v2/webhooks/deliveries and
// POST /api/v2/webhooks/deliveries/{id}/retry.
#include <charconv>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "api/api.h"
#include "api/deliveries_json.h"
#include "api/http_errors.h"
#include "api/request_decoding.h"

namespace bluegate::api {

void HandleListDeliveries(ApiContext& ctx, const Principal& principal, const HttpRequest& req,
                          Responder respond) {
  auto params = ParseQuery(req.query);
  auto query = ParseDeliveryQuery(params);
  if (!query.ok()) return respond(ErrorResponse(query.error()));
  query->account_id = principal.account.id;
  auto page = ctx.store.deliveries.ListDeliveries(query.value());
  if (!page.ok()) return respond(ErrorResponse(page.error()));
  respond(JsonResponse(200, RenderDeliveryPage(page.value(), query.value())));
}

void HandleRetryDelivery(ApiContext& ctx, const Principal& principal, std::string_view id_text,
                         Responder respond) {
  int64_t id = 0;
  auto [ptr, ec] = std::from_chars(id_text.data(), id_text.data() + id_text.size(), id);
  if (ec != std::errc() || ptr != id_text.data() + id_text.size() || id <= 0) {
    return respond(ErrorResponse(Error::NotFound("no webhook delivery " + std::string(id_text))));
  }
  auto d = ctx.store.deliveries.RequeueDelivery(principal.account.id, id);
  if (!d.ok()) return respond(ErrorResponse(d.error()));
  if (ctx.redeliver) ctx.redeliver({d.value()});
  respond(JsonResponse(
      202, R"({"status":"OK","message":"Delivery re-queued","id":)" + std::to_string(id) + "}"));
}

}  // namespace bluegate::api
