#include "app/reload.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <vector>

#include "app/data.h"

namespace bluegate::app {
namespace {

std::string Join(const std::vector<std::string>& keys) {
  std::string out;
  for (const auto& k : keys) out += (out.empty() ? "" : ", ") + k;
  return out;
}

void ReloadCertificate(const Config& c, api::HttpServer& server) {
  if (c.tls_cert_file.empty()) return;
  if (auto r = server.ReloadCertificate(c.tls_cert_file, c.tls_key_file); r.ok()) {
    spdlog::info("SIGHUP: reloaded the TLS certificate {}", c.tls_cert_file);
  } else {
    spdlog::error("SIGHUP: kept the current TLS certificate: {}", r.error().message);
  }
}

}  // namespace

std::string ReadConfigText(const std::string& path) {
  std::ifstream in(path);
  if (!in) return "";
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

net::AddressPolicy WebhookPolicy(const Config& c) {
  net::AddressPolicy policy;
  policy.allow_loopback = c.LoopbackTargetsAllowed();
  policy.allow_private = c.webhook_allow_private;
  policy.own = net::LocalInterfaceAddresses();
  return policy;
}

bool AppliesLive(const std::string& key) {
  auto under = [&key](std::string_view table) {
    return key.size() > table.size() && key.starts_with(table) && key[table.size()] == '.';
  };
  if (key == "log_level") return true;
  if (under("rate_limits")) return true;
  // A line's carrier options shape its connection: they apply when it is added again.
  if (under("lines")) return key.find(".options") == std::string::npos;
  for (const char* k : {"webhooks.timeout", "webhooks.retry_schedule", "webhooks.allow_loopback",
                        "webhooks.allow_private", "webhooks.retention"}) {
    if (key == k) return true;
  }
  return false;
}

void Reload(Config& running, std::string& running_text, ReloadTargets t) {
  if (running.config_file.empty()) {
    spdlog::info("SIGHUP: no configuration file to read again (--config or BLUEGATE_CONFIG)");
    ReloadCertificate(running, t.server);
    return;
  }
  Config next;
  try {
    next = LoadConfig(running.config_file);
  } catch (const std::exception& e) {
    spdlog::error("SIGHUP: kept the running configuration: {}", e.what());
    ReloadCertificate(running, t.server);
    return;
  }
  const std::string text = ReadConfigText(running.config_file);
  std::vector<std::string> applied, on_restart;
  bool lines = false, webhooks = false, tls = false;
  for (const auto& key : ChangedKeys(running_text, text)) {
    // Other files for HTTPS apply; turning it on or off needs a restart.
    const bool tls_files =
        key.starts_with("tls.") && !running.tls_cert_file.empty() && !next.tls_cert_file.empty();
    if (!AppliesLive(key) && !tls_files) {
      on_restart.push_back(key);
      continue;
    }
    applied.push_back(key);
    lines |= key.starts_with("lines.");
    webhooks |= key.starts_with("webhooks.");
    tls |= tls_files;
  }
  if (running.log_level != next.log_level) {
    spdlog::set_level(spdlog::level::from_str(next.log_level));
    running.log_level = next.log_level;
  }
  if (lines) {
    running.line_defaults = next.line_defaults;
    running.line_overrides = next.line_overrides;
    running.line_shared_with = next.line_shared_with;
    const queue::QueueSettings qs = QueueSettingsOf(running);
    t.outbound.ReplaceLimits(qs.defaults, qs.per_line);
    AttachConfiguredAccounts(running, t.store);
  }
  if (running.rate_limits != next.rate_limits) {
    running.rate_limits = next.rate_limits;
    t.api.ReplaceRateRules(running.rate_limits);
  }
  if (webhooks) {
    running.webhook_timeout = next.webhook_timeout;
    running.webhook_schedule = next.webhook_schedule;
    running.webhook_allow_loopback = next.webhook_allow_loopback;
    running.webhook_allow_private = next.webhook_allow_private;
    running.webhook_retention = next.webhook_retention;
    t.webhook_client.ReplaceTargets(running.webhook_timeout, WebhookPolicy(running));
    t.dispatcher.ReplaceSchedule(running.webhook_schedule, running.webhook_retention);
  }
  if (tls) {
    running.tls_cert_file = next.tls_cert_file;
    running.tls_key_file = next.tls_key_file;
  }
  ReloadCertificate(running, t.server);
  running_text = text;
  if (applied.empty() && on_restart.empty()) {
    spdlog::info("SIGHUP: {} is unchanged", running.config_file);
  }
  if (!applied.empty()) spdlog::info("SIGHUP: applied {}", Join(applied));
  if (!on_restart.empty()) {
    spdlog::warn("SIGHUP: {} changed; a restart applies {}", Join(on_restart),
                 on_restart.size() == 1 ? "it" : "them");
  }
}

}  // namespace bluegate::app
