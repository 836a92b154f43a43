// SIGHUP: the configuration file is read again and what can change while serving is applied: the
// log level, the line limits ([lines] and its overrides, shared_with included), the per-account
// rate limits, the webhook settings that do not shape connections (timeout, retry_schedule,
// allow_loopback, allow_private, retention) and the TLS certificate (its files are read again
// even when the file did not change). Every other key that changed is logged by name as applying
// on the next restart. A file with an error changes nothing (the certificate is still read
// again).
#pragma once

#include <string>

#include "api/api.h"
#include "api/http_server.h"
#include "app/config.h"
#include "net/http_client.h"
#include "queue/outbound.h"
#include "store/store.h"
#include "webhooks/dispatcher.h"

namespace bluegate::app {

struct ReloadTargets {
  queue::Outbound& outbound;
  api::HttpServer& server;
  store::Store& store;
  api::Api& api;
  webhooks::Dispatcher& dispatcher;
  net::HttpClient& webhook_client;
};

// Where webhooks and media may be fetched from (webhooks.allow_loopback, allow_private).
net::AddressPolicy WebhookPolicy(const Config& c);

// Whether SIGHUP applies a changed key (dotted, as ChangedKeys names it) while serving.
bool AppliesLive(const std::string& key);

// `running` is the configuration in force and `running_text` the file's text it was read from;
// both are updated to what is in force afterwards.
void Reload(Config& running, std::string& running_text, ReloadTargets targets);

// The file's text, or "" when it cannot be read.
std::string ReadConfigText(const std::string& path);

}  // namespace bluegate::app
