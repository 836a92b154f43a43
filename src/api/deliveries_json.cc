#include "api/deliveries_json.h"

#include "api/request_decoding.h"

#include <charconv>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace bluegate::api {
namespace {

void Str(rapidjson::Writer<rapidjson::StringBuffer>& w, const char* key, std::string_view v) {
  w.Key(key);
  w.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
}

}  // namespace

Result<store::DeliveryQuery> ParseDeliveryQuery(const std::map<std::string, std::string>& params) {
  store::DeliveryQuery q;
  if (auto it = params.find("message_handle"); it != params.end() && !it->second.empty())
    q.message_handle = it->second;
  if (auto it = params.find("url"); it != params.end() && !it->second.empty()) q.url = it->second;
  if (auto it = params.find("outcome"); it != params.end() && !it->second.empty()) {
    q.state = store::DeliveryStateFromName(it->second);
    if (!q.state) {
      return Error::Invalid("outcome must be pending, delivered, failed, disabled or superseded");
    }
  }
  auto limit = IntQueryParam(params, "limit", 50, 1, 1000);
  if (!limit.ok()) return limit.error();
  q.limit = limit.value();
  auto offset = IntQueryParam(params, "offset", 0, 0, 1'000'000'000);
  if (!offset.ok()) return offset.error();
  q.offset = offset.value();
  return q;
}

std::string RenderDeliveryPage(const store::DeliveryPage& page, const store::DeliveryQuery& q) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  Str(w, "status", "OK");
  w.Key("data");
  w.StartArray();
  for (const auto& r : page.data) {
    w.StartObject();
    w.Key("id");
    w.Int64(r.delivery.id);
    Str(w, "message_handle", r.message_handle);
    Str(w, "kind", r.delivery.kind);
    Str(w, "url", r.delivery.url);
    w.Key("status");  // the message status an event announces; null for other events
    if (r.delivery.message_id != 0) {
      w.String(StatusName(r.delivery.status).data());
    } else {
      w.Null();
    }
    Str(w, "outcome", store::DeliveryStateName(r.state));
    w.Key("attempts");
    w.Int(r.delivery.attempts);
    Str(w, "event_at", FormatIso8601(r.delivery.event_at));
    w.Key("next_attempt_at");
    if (r.state == store::DeliveryState::kPending) {
      const std::string next = FormatIso8601(r.delivery.next_attempt_at);
      w.String(next.c_str());
    } else {
      w.Null();
    }
    Str(w, "updated_at", FormatIso8601(r.updated_at));
    w.Key("attempt_log");
    w.StartArray();
    for (const auto& a : r.attempt_log) {
      w.StartObject();
      Str(w, "at", FormatIso8601(a.at));
      w.Key("http_status");
      if (a.http_status)
        w.Int(a.http_status);
      else
        w.Null();
      w.Key("latency_ms");
      w.Int64(a.latency.count());
      w.Key("error");
      if (a.error.empty())
        w.Null();
      else
        w.String(a.error.c_str());
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
  w.Key("pagination");
  w.StartObject();
  w.Key("total");
  w.Int64(page.total);
  w.Key("limit");
  w.Int(q.limit);
  w.Key("offset");
  w.Int(q.offset);
  w.Key("hasMore");
  w.Bool(q.offset + static_cast<int64_t>(page.data.size()) < page.total);
  w.EndObject();
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace bluegate::api
