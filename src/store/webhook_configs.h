// The WebhookConfigs role of the store: each account's webhook configuration.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/message.h"
#include "core/result.h"

namespace bluegate::store {

// Account webhooks (SPEC.md §5): entries by event type, as the Sendblue SDK configures them.
inline constexpr const char* kWebhookTypes[] = {"receive",      "outbound",      "typing_indicator",
                                                "line_blocked", "line_assigned", "contact_created",
                                                "call_log",     "inbound_call",  "contact_profile"};

struct WebhookEntry {
  std::string url;
  std::optional<std::string> secret;                         // else the account's global secret
  std::optional<std::vector<std::string>> sendblue_numbers;  // receive: only these lines
  bool plain = true;                     // given as a bare URL string (and shown back that way)
  std::optional<TimePoint> disabled_at;  // the endpoint answered 410 Gone
};

struct WebhookConfig {
  std::map<std::string, std::vector<WebhookEntry>> by_type;
  std::optional<std::string> global_secret;
};

// Account webhooks as the Sendblue SDK configures them. Synchronous; written through the writer,
// so a change applies to every message committed after the call returns.
class WebhookConfigs {
 public:
  virtual ~WebhookConfigs() = default;
  virtual Result<WebhookConfig> GetWebhooks(int64_t account_id) = 0;

  // Appends entries of one type (an entry whose URL is already there replaces it) and, when
  // given, sets the global secret.
  virtual Result<WebhookConfig> AddWebhooks(int64_t account_id, const std::string& type,
                                            std::vector<WebhookEntry> entries,
                                            std::optional<std::string> global_secret) = 0;

  // Replaces the whole configuration.
  virtual Result<WebhookConfig> ReplaceWebhooks(int64_t account_id, WebhookConfig config) = 0;

  // Removes these URLs from one type.
  virtual Result<WebhookConfig> DeleteWebhooks(int64_t account_id, const std::string& type,
                                               std::vector<std::string> urls) = 0;
};

}  // namespace bluegate::store
