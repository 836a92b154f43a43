// bluegate webhooks list|retry
#include <fmt/format.h>

#include <iostream>
#include <map>

#include "api/deliveries_json.h"
#include "app/cli_command.h"
#include "app/wiring.h"

namespace bluegate::app {
namespace {

struct WebhookListOptions {
  CommonOptions common;
  std::string message, url, outcome;
  int limit = 50;
  bool json = false;
};

Result<int> WebhooksList(const WebhookListOptions& o) {
  Config c = Load(o.common);
  std::map<std::string, std::string> params{{"message_handle", o.message},
                                            {"url", o.url},
                                            {"outcome", o.outcome},
                                            {"limit", std::to_string(o.limit)}};
  auto query = api::ParseDeliveryQuery(params);
  if (!query.ok()) return query.error();
  auto store = OpenStore(c);
  auto page = store->ListDeliveries(query.value());
  if (!page.ok()) return page.error();
  if (o.json) {
    std::cout << api::RenderDeliveryPage(page.value(), query.value()) << "\n";
    return 0;
  }
  std::cout << fmt::format("{:>8}  {:<9}  {:<10}  {:>8}  {:<15}  {:<36}  {}\n", "ID", "OUTCOME",
                           "STATUS", "ATTEMPTS", "KIND", "MESSAGE", "URL / LAST RESULT");
  for (const auto& r : page->data) {
    std::string last;
    if (!r.attempt_log.empty()) {
      const auto& a = r.attempt_log.back();
      last = a.http_status ? "HTTP " + std::to_string(a.http_status) : a.error;
    }
    std::cout << fmt::format("{:>8}  {:<9}  {:<10}  {:>8}  {:<15}  {:<36}  {}{}\n", r.delivery.id,
                             store::DeliveryStateName(r.state), StatusName(r.delivery.status),
                             r.delivery.attempts, r.delivery.kind, r.message_handle, r.delivery.url,
                             last.empty() ? "" : " (" + last + ")");
  }
  std::cout << page->data.size() << " of " << page->total << " deliveries\n";
  return 0;
}

struct WebhookRetryOptions {
  CommonOptions common;
  int64_t id = 0;
};

Result<int> WebhooksRetry(const WebhookRetryOptions& o) {
  Config c = Load(o.common);
  auto store = OpenStore(c);
  auto d = store->RequeueDelivery(std::nullopt, o.id);
  if (!d.ok()) return d.error();
  std::cout << "delivery " << o.id
            << " re-queued; a running server sends it within a few seconds\n";
  return 0;
}

}  // namespace

void AddWebhookCommands(CLI::App& app, Command& chosen) {
  auto* webhooks = app.add_subcommand("webhooks", "Inspect and retry webhook deliveries");
  webhooks->require_subcommand(1);
  auto [list_cmd, list] = AddCommand<WebhookListOptions>(
      webhooks, "list", "List webhook deliveries, newest first, with their last result", chosen,
      WebhooksList);
  list_cmd->add_option("--message", list->message, "Only deliveries about this message_handle");
  list_cmd->add_option("--url", list->url, "Only deliveries to this URL");
  list_cmd->add_option("--outcome", list->outcome,
                       "pending, delivered, failed, disabled or superseded");
  list_cmd->add_option("--limit", list->limit, "At most this many (1-1000, default 50)");
  list_cmd->add_flag("--json", list->json, "Print the API's JSON, attempts included");

  auto [retry_cmd, retry] = AddCommand<WebhookRetryOptions>(
      webhooks, "retry", "Send a delivery again from its first attempt", chosen, WebhooksRetry);
  retry_cmd->add_option("id", retry->id, "The delivery id (from `bluegate webhooks list`)")
      ->required();
}

}  // namespace bluegate::app
