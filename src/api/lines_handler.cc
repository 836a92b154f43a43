// GET /api/lines.
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "api/api.h"
#include "api/http_errors.h"

namespace bluegate::api {

void HandleListLines(ApiContext& ctx, const Principal& principal, const HttpRequest&,
                     Responder respond) {
  auto lines = ctx.store.ListLines(principal.account.id);
  if (!lines.ok()) return respond(ErrorResponse(lines.error()));
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("status");
  w.String("OK");
  w.Key("numbers");
  w.StartArray();
  for (const auto& l : lines.value()) w.String(l.number.c_str());
  w.EndArray();
  w.EndObject();
  respond(JsonResponse(200, std::string(buf.GetString(), buf.GetSize())));
}

}  // namespace bluegate::api
