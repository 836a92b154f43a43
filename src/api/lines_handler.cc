// GET /api/lines, GET /api/v2/lines/state and GET /api/v2/lines/usage.
#include <unistd.h>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "api/api.h"
#include "api/http_errors.h"

namespace bluegate::api {

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

// The lines endpoints' shared shape: {"status":"OK", <head>, "<key>":[one entry per line]}.
template <typename Head, typename Each>
void RespondPerLine(ApiContext& ctx, const Principal& principal, const Responder& respond,
                    const char* key, Head head, Each each) {
  auto lines = ctx.store.ListLines(principal.account.id);
  if (!lines.ok()) return respond(ErrorResponse(lines.error()));
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  w.Key("status");
  w.String("OK");
  head(w);
  w.Key(key);
  w.StartArray();
  for (const auto& l : lines.value()) each(w, l);
  w.EndArray();
  w.EndObject();
  respond(JsonResponse(200, std::string(buf.GetString(), buf.GetSize())));
}

void HandleListLines(ApiContext& ctx, const Principal& principal, const HttpRequest&,
                     Responder respond) {
  RespondPerLine(
      ctx, principal, respond, "numbers", [](JsonWriter&) {},
      [](JsonWriter& w, const store::Line& l) { w.String(l.number.c_str()); });
}

namespace {

std::string NodeName() {
  char host[256] = {0};
  if (::gethostname(host, sizeof host - 1) != 0 || host[0] == '\0') return "bluegate";
  return std::string("bluegate@") + host;
}

void WriteUsage(JsonWriter& w, const char* key, const NewContactWindow::Usage& u, bool limited) {
  w.Key(key);
  w.StartObject();
  w.Key("used");
  w.Int(u.used);
  w.Key("limit");
  if (limited)
    w.Int(u.limit);
  else
    w.Null();
  w.Key("remaining");
  if (limited)
    w.Int(u.remaining);
  else
    w.Null();
  const std::string next = FormatIso8601(u.next_slot_at);
  const std::string resets = FormatIso8601(u.resets_at);
  w.Key("nextSlotAt");
  w.String(next.c_str());
  w.Key("resetsAt");
  w.String(resets.c_str());
  w.EndObject();
}

}  // namespace

void HandleLinesState(ApiContext& ctx, const Principal& principal, const HttpRequest&,
                      Responder respond) {
  static const std::string node = NodeName();
  const std::string now = FormatIso8601(ctx.clock.Now());
  RespondPerLine(
      ctx, principal, respond, "data",
      [&now](JsonWriter& w) {
        w.Key("snapshot_at");
        w.String(now.c_str());
      },
      [&ctx](JsonWriter& w, const store::Line& l) {
        const auto state = ctx.outbound.StateOf(l);
        const std::string changed = FormatIso8601(state.changed_at);
        w.StartObject();
        w.Key("sendblue_number");
        w.String(l.number.c_str());
        w.Key("worker_id");
        w.String(node.c_str());
        w.Key("assignment");
        w.String("assigned");
        w.Key("status");
        w.String(carriers::LineHealthName(state.health).data());
        w.Key("status_changed_at");
        w.String(changed.c_str());
        w.Key("degraded_since");
        if (state.health == carriers::LineHealth::kOnline) {
          w.Null();
        } else {
          w.String(changed.c_str());
        }
        w.Key("effective_until");
        w.Null();
        w.EndObject();
      });
}

void HandleLinesUsage(ApiContext& ctx, const Principal& principal, const HttpRequest&,
                      Responder respond) {
  RespondPerLine(
      ctx, principal, respond, "data", [](JsonWriter&) {},
      [&ctx](JsonWriter& w, const store::Line& l) {
        const auto usage = ctx.outbound.NewContactUsage(l);
        w.StartObject();
        w.Key("sendblue_number");
        w.String(l.number.c_str());
        WriteUsage(w, "daily", usage.daily, usage.limits.per_day > 0);
        WriteUsage(w, "hourly", usage.hourly, usage.limits.per_hour > 0);
        w.EndObject();
      });
}

}  // namespace bluegate::api
