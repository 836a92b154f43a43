// GET/POST/PUT/DELETE /api/account/webhooks, exactly as the sendblue SDK sends them.
#include <algorithm>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "api/api.h"
#include "api/http_errors.h"
#include "api/webhook_config.h"

namespace bluegate::api {
namespace {

using store::WebhookConfig;
using store::WebhookEntry;

// The bounds on one account's webhooks (webhooks.max_per_type, webhooks.max_per_account), checked
// on the configuration as it would be after the change.
std::optional<Error> CheckBounds(const WebhookConfig& config, const ApiLimits& limits) {
  size_t total = 0;
  for (const auto& [type, entries] : config.by_type) {
    if (entries.size() > limits.webhooks_per_type) {
      return Error::Invalid("webhooks: an account may have at most " +
                            std::to_string(limits.webhooks_per_type) + " webhooks of type " + type +
                            " (webhooks.max_per_type)");
    }
    total += entries.size();
  }
  if (total > limits.webhooks_per_account) {
    return Error::Invalid("webhooks: an account may have at most " +
                          std::to_string(limits.webhooks_per_account) +
                          " webhooks in all (webhooks.max_per_account)");
  }
  return std::nullopt;
}

HttpResponse Render(const WebhookConfig& config, const char* message) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("status");
  w.String("OK");
  if (message) {
    w.Key("message");
    w.String(message);
  }
  w.Key("webhooks");
  w.StartObject();
  for (const auto& [type, entries] : config.by_type) {
    w.Key(type.c_str());
    w.StartArray();
    for (const auto& e : entries) {
      if (e.plain && !e.disabled_at) {
        w.String(e.url.c_str());
        continue;
      }
      w.StartObject();
      w.Key("url");
      w.String(e.url.c_str());
      if (e.secret) {
        w.Key("secret");
        w.String(e.secret->c_str());
      }
      if (e.sendblue_numbers) {
        w.Key("sendblue_numbers");
        w.StartArray();
        for (const auto& n : *e.sendblue_numbers) w.String(n.c_str());
        w.EndArray();
      }
      if (e.disabled_at) {
        w.Key("disabled_at");
        const std::string at = FormatIso8601(*e.disabled_at);
        w.String(at.c_str());
      }
      w.EndObject();
    }
    w.EndArray();
  }
  if (config.global_secret) {
    w.Key("globalSecret");
    w.String(config.global_secret->c_str());
  }
  w.EndObject();
  w.EndObject();
  return JsonResponse(200, std::string(buf.GetString(), buf.GetSize()));
}

}  // namespace

void HandleWebhooks(ApiContext& ctx, const Principal& principal, const HttpRequest& req,
                    Responder respond) {
  const int64_t account = principal.account.id;
  if (req.method == "GET") {
    auto config = ctx.store.webhooks.GetWebhooks(account);
    if (!config.ok()) return respond(ErrorResponse(config.error()));
    return respond(Render(config.value(), nullptr));
  }
  auto change = DecodeWebhookChange(req, ctx.phones);
  if (!change.ok()) return respond(ErrorResponse(change.error()));
  WebhookChange& c = change.value();
  Result<WebhookConfig> result = Error::Internal("unhandled method");
  const char* message = nullptr;
  if (req.method == "POST") {
    auto current = ctx.store.webhooks.GetWebhooks(account);
    if (!current.ok()) return respond(ErrorResponse(current.error()));
    WebhookConfig after = std::move(current).value();
    auto& of_type = after.by_type[c.type];
    for (const auto& e : c.entries) {
      if (std::none_of(of_type.begin(), of_type.end(),
                       [&e](const WebhookEntry& x) { return x.url == e.url; })) {
        of_type.push_back(e);
      }
    }
    if (auto bad = CheckBounds(after, ctx.limits)) return respond(ErrorResponse(*bad));
    result = ctx.store.webhooks.AddWebhooks(account, c.type, std::move(c.entries), c.global_secret);
    message = "Webhooks added successfully";
  } else if (req.method == "PUT") {
    if (auto bad = CheckBounds(c.replacement, ctx.limits)) return respond(ErrorResponse(*bad));
    result = ctx.store.webhooks.ReplaceWebhooks(account, std::move(c.replacement));
    message = "Webhooks updated successfully";
  } else {
    result = ctx.store.webhooks.DeleteWebhooks(account, c.type, std::move(c.urls));
    message = "Webhooks deleted successfully";
  }
  if (!result.ok()) return respond(ErrorResponse(result.error()));
  respond(Render(result.value(), message));
}

}  // namespace bluegate::api
