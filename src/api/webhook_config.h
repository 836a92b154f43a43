// Reading a /api/account/webhooks request body into what it asks for, as the sendblue SDK sends
// it: pure (no store), so that it is unit-tested and fuzzed alone. Every failure names the field.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "api/http_types.h"
#include "core/phone.h"
#include "core/result.h"
#include "store/store.h"

namespace bluegate::api {

struct WebhookChange {
  std::string type;                          // POST and DELETE: the webhook type
  std::vector<store::WebhookEntry> entries;  // POST: the webhooks to add
  std::optional<std::string> global_secret;  // POST and PUT
  store::WebhookConfig replacement;          // PUT: the whole configuration
  std::vector<std::string> urls;             // DELETE: the URLs to remove
};

// `req.method` is POST, PUT or DELETE. Secrets must be header-safe (no CR, LF, NUL or other
// control characters) and at most 256 bytes; URLs at most 2,048 bytes.
Result<WebhookChange> DecodeWebhookChange(const HttpRequest& req, const PhoneNumbers& phones);

// "receive, outbound, ...": the webhook types, for messages.
std::string WebhookTypeList();

}  // namespace bluegate::api
