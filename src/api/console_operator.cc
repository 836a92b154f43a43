// The console's operator view (issue #17): every account and line, and a line's limits changed
// from the page, for a session opened with [console] operator_token. Answers only to
// Api::HandleConsole, which has checked the session and, for a change, its CSRF token.
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <map>

#include "api/api.h"
#include "api/http_errors.h"
#include "core/clock.h"
#include "core/json.h"

namespace bluegate::api {
namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void Str(Writer& w, const char* key, const std::string& v) {
  w.Key(key);
  w.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
}

template <typename T>
void Opt(Writer& w, const char* key, const std::optional<T>& v) {
  w.Key(key);
  if (!v) {
    w.Null();
  } else if constexpr (std::is_floating_point_v<T>) {
    w.Double(*v);
  } else {
    w.Int64(*v);
  }
}

void Window(Writer& w, const char* key, const NewContactWindow::Usage& u, bool limited) {
  w.Key(key);
  w.StartObject();
  w.Key("used");
  w.Int(u.used);
  w.Key("limit");
  if (limited)
    w.Int(u.limit);
  else
    w.Null();
  Str(w, "nextSlotAt", FormatIso8601(u.next_slot_at));
  w.EndObject();
}

// A limit from the body: a number in [min, max], or null (back to the configuration's).
Result<std::optional<double>> Limit(const rapidjson::Value& body, const char* key, double min,
                                    double max, bool whole) {
  const std::string name = std::string(key);
  if (!body.HasMember(key)) return std::optional<double>();
  const auto& v = body[key];
  if (v.IsNull()) return std::optional<double>();
  if (!v.IsNumber() || (whole && !v.IsInt64())) {
    return Error::Invalid(name + ": expected " + (whole ? "a whole number" : "a number") +
                          " or null (the configuration's)");
  }
  const double d = v.GetDouble();
  if (d < min || d > max) {
    return Error::Invalid(name + ": must be between " + std::to_string(static_cast<int64_t>(min)) +
                          " and " + std::to_string(static_cast<int64_t>(max)));
  }
  return std::optional<double>(d);
}

}  // namespace

HttpResponse Api::HandleOperator(const HttpRequest& req, const ConsoleSession&) {
  if (req.method == "GET" && req.path == "/console/operator/overview") {
    auto accounts = ctx_.store.accounts.ListAccounts();
    if (!accounts.ok()) return ErrorResponse(accounts.error());
    auto lines = ctx_.store.directory.ListLines(std::nullopt);
    if (!lines.ok()) return ErrorResponse(lines.error());
    std::map<int64_t, std::string> email;
    std::map<int64_t, int> owned;
    for (const auto& a : accounts.value()) email[a.id] = a.email;
    for (const auto& l : lines.value()) ++owned[l.account_id];
    rapidjson::StringBuffer buf;
    Writer w(buf);
    w.StartObject();
    Str(w, "status", "OK");
    w.Key("accounts");
    w.StartArray();
    for (const auto& a : accounts.value()) {
      w.StartObject();
      Str(w, "email", a.email);
      Str(w, "plan", a.plan);
      w.Key("disabled");
      w.Bool(a.disabled());
      w.Key("lines");
      w.Int(owned[a.id]);
      w.EndObject();
    }
    w.EndArray();
    w.Key("lines");
    w.StartArray();
    for (const auto& l : lines.value()) {
      const auto limits = ctx_.outbound.LimitsFor(l);
      const auto usage = ctx_.outbound.NewContactUsage(l);
      w.StartObject();
      Str(w, "sendblue_number", l.number);
      Str(w, "account_email", email[l.account_id]);
      Str(w, "carrier", l.carrier);
      Str(w, "status", std::string(carriers::LineHealthName(ctx_.outbound.StateOf(l).health)));
      w.Key("queue_depth");
      w.Uint64(ctx_.outbound.QueueDepth(l.number));
      w.Key("limits");  // in force: the configuration's, with the line's own on top
      w.StartObject();
      w.Key("burst_per_second");
      w.Double(limits.burst_per_second);
      w.Key("queue_capacity");
      w.Uint64(limits.queue_capacity);
      w.Key("new_contacts_per_day");
      w.Int(limits.new_contacts.per_day);
      w.Key("new_contacts_per_hour");
      w.Int(limits.new_contacts.per_hour);
      w.EndObject();
      w.Key("own");  // the line's own settings (null: the configuration's)
      w.StartObject();
      Opt(w, "burst_per_second", l.settings.burst_per_second);
      Opt(w, "queue_capacity", l.settings.queue_capacity);
      Opt(w, "new_contacts_per_day", l.settings.new_contacts_per_day);
      Opt(w, "new_contacts_per_hour", l.settings.new_contacts_per_hour);
      w.EndObject();
      Window(w, "daily", usage.daily, usage.limits.per_day > 0);
      Window(w, "hourly", usage.hourly, usage.limits.per_hour > 0);
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
    return JsonResponse(200, std::string(buf.GetString(), buf.GetSize()));
  }
  if (req.method == "POST" && req.path == "/console/operator/lines/limits") {
    rapidjson::Document body;
    if (auto parsed = ParseJson(req.body, body); !parsed || !body.IsObject()) {
      return ErrorResponse(Error::Invalid("The body must be a JSON object: " +
                                          (parsed ? std::string("not an object") : parsed.error)));
    }
    if (!body.HasMember("number") || !body["number"].IsString()) {
      return ErrorResponse(Error::Invalid("number: the line's E.164 number is required"));
    }
    const std::string number = body["number"].GetString();
    auto line = ctx_.store.directory.FindLine(number);
    if (!line.ok()) return ErrorResponse(Error::NotFound("number: no line " + number));
    store::LineSettings s = line->settings;
    auto burst = Limit(body, "burst_per_second", 0, 1e6, false);
    if (!burst.ok()) return ErrorResponse(burst.error());
    auto capacity = Limit(body, "queue_capacity", 1, 10'000'000, true);
    if (!capacity.ok()) return ErrorResponse(capacity.error());
    auto per_day = Limit(body, "new_contacts_per_day", 0, 1'000'000, true);
    if (!per_day.ok()) return ErrorResponse(per_day.error());
    auto per_hour = Limit(body, "new_contacts_per_hour", 0, 1'000'000, true);
    if (!per_hour.ok()) return ErrorResponse(per_hour.error());
    s.burst_per_second = burst.value();
    auto whole = [](const std::optional<double>& d) {
      return d ? std::optional<int64_t>(static_cast<int64_t>(*d)) : std::nullopt;
    };
    s.queue_capacity = whole(capacity.value());
    s.new_contacts_per_day = whole(per_day.value());
    s.new_contacts_per_hour = whole(per_hour.value());
    auto updated = ctx_.store.directory.SetLineSettings(number, s);
    if (!updated.ok()) return ErrorResponse(updated.error());
    ctx_.outbound.Refresh();  // the running line takes them now, not at the next poll
    return JsonResponse(200, R"({"status":"OK"})");
  }
  return ErrorResponse(Error::NotFound("No route for " + req.method + " " + req.path));
}

}  // namespace bluegate::api
