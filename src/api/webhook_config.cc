#include "api/webhook_config.h"

#include <rapidjson/document.h>

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

std::string TypeListImpl() {
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
    return Error::Invalid("type must be one of " + TypeListImpl());
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

}  // namespace

std::string WebhookTypeList() { return TypeListImpl(); }

Result<WebhookChange> DecodeWebhookChange(const HttpRequest& req, const PhoneNumbers& phones) {
  auto doc = ParseJsonObject(req);
  if (!doc.ok()) return doc.error();
  const rapidjson::Document& body = doc.value();
  if (!body.HasMember("webhooks")) return Error::Invalid("webhooks is required");
  const auto& webhooks = body["webhooks"];
  WebhookChange change;
  if (req.method == "POST") {
    auto type = TypeOf(body);
    if (!type.ok()) return type.error();
    change.type = std::move(type).value();
    auto entries = ParseEntries(webhooks, "webhooks", phones);
    if (!entries.ok()) return entries.error();
    change.entries = std::move(entries).value();
    auto secret = GlobalSecretOf(body);
    if (!secret.ok()) return secret.error();
    change.global_secret = secret.value();
    return change;
  }
  if (req.method == "PUT") {
    if (!webhooks.IsObject()) {
      return Error::Invalid("webhooks must be an object of arrays by type (" + TypeListImpl() +
                            ") and globalSecret");
    }
    for (auto it = webhooks.MemberBegin(); it != webhooks.MemberEnd(); ++it) {
      const std::string key(it->name.GetString(), it->name.GetStringLength());
      if (key == "globalSecret") continue;
      if (!IsWebhookType(key)) {
        return Error::Invalid("webhooks." + ForLog(key) + " is not a webhook type; use " +
                              TypeListImpl());
      }
      auto entries = ParseEntries(it->value, "webhooks." + key, phones);
      if (!entries.ok()) return entries.error();
      change.replacement.by_type[key] = std::move(entries).value();
    }
    auto secret = GlobalSecretOf(webhooks);
    if (!secret.ok()) return secret.error();
    change.replacement.global_secret = secret.value();
    change.global_secret = secret.value();
    return change;
  }
  if (req.method == "DELETE") {
    auto type = TypeOf(body);
    if (!type.ok()) return type.error();
    change.type = std::move(type).value();
    if (!webhooks.IsArray()) return Error::Invalid("webhooks must be an array of URLs to remove");
    for (rapidjson::SizeType i = 0; i < webhooks.Size(); ++i) {
      const auto& v = webhooks[i];
      if (v.IsString()) {
        change.urls.emplace_back(v.GetString(), v.GetStringLength());
      } else if (v.IsObject() && v.HasMember("url") && v["url"].IsString()) {
        change.urls.emplace_back(v["url"].GetString(), v["url"].GetStringLength());
      } else {
        return Error::Invalid("webhooks[" + std::to_string(i) + "] must be a URL string");
      }
    }
    return change;
  }
  return Error::NotFound("No route for " + req.method + " " + req.path);
}

}  // namespace bluegate::api
