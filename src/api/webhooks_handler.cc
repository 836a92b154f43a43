// GET/POST/PUT/DELETE /api/account/webhooks, exactly as the sendblue SDK sends them.
#include <algorithm>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "api/api.h"
#include "api/http_errors.h"
#include "api/request_decoding.h"
#include "core/text.h"
#include "core/url.h"

namespace bluegate::api {
namespace {

using store::WebhookConfig;
using store::WebhookEntry;

constexpr size_t kMaxSecretBytes = 256;
constexpr size_t kMaxUrlBytes = 2048;

// A signing secret travels in the sb-signing-secret header of every delivery: it may not carry
// anything that would end that header.
std::optional<Error> CheckSecret(std::string_view secret, const std::string& field) {
  if (secret.size() > kMaxSecretBytes) {
    return Error::Invalid(field + " is longer than " + std::to_string(kMaxSecretBytes) + " bytes");
  }
  if (!IsHeaderSafe(secret)) {
    return Error::Invalid(field + " may not contain CR, LF, NUL or other control characters");
  }
  return std::nullopt;
}

bool IsWebhookType(std::string_view type) {
  for (const char* t : store::kWebhookTypes) {
    if (type == t) return true;
  }
  return false;
}

std::string TypeList() {
  std::string out;
  for (const char* t : store::kWebhookTypes) out += (out.empty() ? "" : ", ") + std::string(t);
  return out;
}

Result<WebhookEntry> ParseEntry(const rapidjson::Value& v, const std::string& field,
                                const PhoneNumbers& phones) {
  WebhookEntry e;
  if (v.IsString()) {
    e.url = std::string(v.GetString(), v.GetStringLength());
  } else if (v.IsObject()) {
    e.plain = false;
    if (!v.HasMember("url") || !v["url"].IsString())
      return Error::Invalid(field + ".url is required and must be a string");
    e.url = std::string(v["url"].GetString(), v["url"].GetStringLength());
    if (v.HasMember("secret") && !v["secret"].IsNull()) {
      if (!v["secret"].IsString()) return Error::Invalid(field + ".secret must be a string");
      e.secret = std::string(v["secret"].GetString(), v["secret"].GetStringLength());
      if (auto bad = CheckSecret(*e.secret, field + ".secret")) return *bad;
    }
    if (v.HasMember("sendblue_numbers") && !v["sendblue_numbers"].IsNull()) {
      const auto& numbers = v["sendblue_numbers"];
      if (!numbers.IsArray())
        return Error::Invalid(field + ".sendblue_numbers must be an array of phone numbers");
      std::vector<std::string> list;
      for (rapidjson::SizeType i = 0; i < numbers.Size(); ++i) {
        const std::string nfield = field + ".sendblue_numbers[" + std::to_string(i) + "]";
        if (!numbers[i].IsString()) return Error::Invalid(nfield + " must be a string");
        auto n = phones.Normalize(numbers[i].GetString(), nfield);
        if (!n.ok()) return n.error();
        list.push_back(std::move(n).value());
      }
      e.sendblue_numbers = std::move(list);
    }
  } else {
    return Error::Invalid(field +
                          " must be a URL string or an object {url, secret, sendblue_numbers}");
  }
  if (e.url.size() > kMaxUrlBytes) {
    return Error::Invalid(field + " is longer than " + std::to_string(kMaxUrlBytes) + " bytes");
  }
  if (!ParseHttpUrl(e.url) || e.url.find('\0') != std::string::npos) {
    return Error::Invalid(field + " must be an http or https URL; got \"" + ForLog(e.url) + "\"");
  }
  return e;
}

Result<std::vector<WebhookEntry>> ParseEntries(const rapidjson::Value& v, const std::string& field,
                                               const PhoneNumbers& phones) {
  if (!v.IsArray())
    return Error::Invalid(field + " must be an array of URLs or {url, secret, sendblue_numbers}");
  std::vector<WebhookEntry> out;
  for (rapidjson::SizeType i = 0; i < v.Size(); ++i) {
    auto e = ParseEntry(v[i], field + "[" + std::to_string(i) + "]", phones);
    if (!e.ok()) return e.error();
    out.push_back(std::move(e).value());
  }
  return out;
}

Result<std::string> TypeOf(const rapidjson::Document& doc) {
  if (!doc.HasMember("type") || doc["type"].IsNull()) return std::string("receive");
  if (!doc["type"].IsString() || !IsWebhookType(doc["type"].GetString())) {
    return Error::Invalid("type must be one of " + TypeList());
  }
  return std::string(doc["type"].GetString());
}

Result<std::optional<std::string>> GlobalSecretOf(const rapidjson::Value& v) {
  if (!v.HasMember("globalSecret") || v["globalSecret"].IsNull())
    return std::optional<std::string>();
  if (!v["globalSecret"].IsString()) return Error::Invalid("globalSecret must be a string");
  std::string secret(v["globalSecret"].GetString(), v["globalSecret"].GetStringLength());
  if (auto bad = CheckSecret(secret, "globalSecret")) return *bad;
  return std::optional<std::string>(std::move(secret));
}

// The bounds on one account's webhooks (webhooks.max_per_type, webhooks.max_per_account), checked
// on the configuration as it would be after the change.
std::optional<Error> CheckBounds(const WebhookConfig& config, const ApiLimits& limits) {
  size_t total = 0;
  for (const auto& [type, entries] : config.by_type) {
    if (entries.size() > limits.webhooks_per_type) {
      return Error::Invalid("webhooks: an account may have at most " +
                            std::to_string(limits.webhooks_per_type) + " webhooks of type " +
                            type + " (webhooks.max_per_type)");
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
    auto config = ctx.store.GetWebhooks(account);
    if (!config.ok()) return respond(ErrorResponse(config.error()));
    return respond(Render(config.value(), nullptr));
  }
  auto doc = ParseJsonObject(req);
  if (!doc.ok()) return respond(ErrorResponse(doc.error()));
  const rapidjson::Document& body = doc.value();
  if (!body.HasMember("webhooks"))
    return respond(ErrorResponse(Error::Invalid("webhooks is required")));
  const auto& webhooks = body["webhooks"];

  Result<WebhookConfig> result = Error::Internal("unhandled method");
  const char* message = nullptr;
  if (req.method == "POST") {
    auto type = TypeOf(body);
    if (!type.ok()) return respond(ErrorResponse(type.error()));
    auto entries = ParseEntries(webhooks, "webhooks", ctx.phones);
    if (!entries.ok()) return respond(ErrorResponse(entries.error()));
    auto secret = GlobalSecretOf(body);
    if (!secret.ok()) return respond(ErrorResponse(secret.error()));
    auto current = ctx.store.GetWebhooks(account);
    if (!current.ok()) return respond(ErrorResponse(current.error()));
    WebhookConfig after = std::move(current).value();
    auto& of_type = after.by_type[type.value()];
    for (const auto& e : entries.value()) {
      if (std::none_of(of_type.begin(), of_type.end(),
                       [&e](const WebhookEntry& x) { return x.url == e.url; })) {
        of_type.push_back(e);
      }
    }
    if (auto bad = CheckBounds(after, ctx.limits)) return respond(ErrorResponse(*bad));
    result =
        ctx.store.AddWebhooks(account, type.value(), std::move(entries).value(), secret.value());
    message = "Webhooks added successfully";
  } else if (req.method == "PUT") {
    if (!webhooks.IsObject()) {
      return respond(ErrorResponse(Error::Invalid("webhooks must be an object of arrays by type (" +
                                                  TypeList() + ") and globalSecret")));
    }
    WebhookConfig config;
    for (auto it = webhooks.MemberBegin(); it != webhooks.MemberEnd(); ++it) {
      const std::string key = it->name.GetString();
      if (key == "globalSecret") continue;
      if (!IsWebhookType(key)) {
        return respond(ErrorResponse(
            Error::Invalid("webhooks." + key + " is not a webhook type; use " + TypeList())));
      }
      auto entries = ParseEntries(it->value, "webhooks." + key, ctx.phones);
      if (!entries.ok()) return respond(ErrorResponse(entries.error()));
      config.by_type[key] = std::move(entries).value();
    }
    auto secret = GlobalSecretOf(webhooks);
    if (!secret.ok()) return respond(ErrorResponse(secret.error()));
    config.global_secret = secret.value();
    if (auto bad = CheckBounds(config, ctx.limits)) return respond(ErrorResponse(*bad));
    result = ctx.store.ReplaceWebhooks(account, std::move(config));
    message = "Webhooks updated successfully";
  } else if (req.method == "DELETE") {
    auto type = TypeOf(body);
    if (!type.ok()) return respond(ErrorResponse(type.error()));
    if (!webhooks.IsArray())
      return respond(ErrorResponse(Error::Invalid("webhooks must be an array of URLs to remove")));
    std::vector<std::string> urls;
    for (rapidjson::SizeType i = 0; i < webhooks.Size(); ++i) {
      const auto& v = webhooks[i];
      if (v.IsString()) {
        urls.emplace_back(v.GetString());
      } else if (v.IsObject() && v.HasMember("url") && v["url"].IsString()) {
        urls.emplace_back(v["url"].GetString());
      } else {
        return respond(ErrorResponse(
            Error::Invalid("webhooks[" + std::to_string(i) + "] must be a URL string")));
      }
    }
    result = ctx.store.DeleteWebhooks(account, type.value(), std::move(urls));
    message = "Webhooks deleted successfully";
  } else {
    return respond(ErrorResponse(Error::NotFound("No route for " + req.method + " " + req.path)));
  }
  if (!result.ok()) return respond(ErrorResponse(result.error()));
  respond(Render(result.value(), message));
}

}  // namespace bluegate::api
