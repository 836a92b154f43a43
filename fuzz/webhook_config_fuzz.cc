// libFuzzer target: an /api/account/webhooks body, for each method, through DecodeWebhookChange.
// A secret that is accepted must be safe to send as a header.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "api/webhook_config.h"
#include "core/text.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bluegate::PhoneNumbers phones({});
  for (const char* method : {"POST", "PUT", "DELETE"}) {
    bluegate::api::HttpRequest req;
    req.method = method;
    req.path = "/api/account/webhooks";
    req.body.assign(reinterpret_cast<const char*>(data), size);
    auto change = bluegate::api::DecodeWebhookChange(req, phones);
    if (!change.ok()) continue;
    auto check = [](const bluegate::store::WebhookEntry& e) {
      if (e.secret && !bluegate::IsHeaderSafe(*e.secret)) std::abort();
    };
    for (const auto& e : change->entries) check(e);
    for (const auto& [type, entries] : change->replacement.by_type) {
      for (const auto& e : entries) check(e);
    }
    if (change->global_secret && !bluegate::IsHeaderSafe(*change->global_secret)) std::abort();
  }
  return 0;
}
