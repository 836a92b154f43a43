#include "core/metrics.h"

#include <unordered_map>

namespace bluegate {

std::atomic<uint64_t>& Metrics::RequestCounter(std::string_view route, int http_status) {
  std::lock_guard lock(mu_);
  auto& slot = requests_[{std::string(route), http_status}];
  if (!slot) slot = std::make_unique<std::atomic<uint64_t>>(0);
  return *slot;
}

void Metrics::CountRequest(std::string_view route, int http_status) {
  // The hot path takes no lock and allocates nothing once warm: each thread remembers the
  // counters it has used, looked up by the route as a string_view.
  struct RouteHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  using ByStatus = std::map<int, std::atomic<uint64_t>*>;
  using ByRoute = std::unordered_map<std::string, ByStatus, RouteHash, std::equal_to<>>;
  thread_local std::unordered_map<const Metrics*, ByRoute> cache;
  ByRoute& routes = cache[this];
  auto it = routes.find(route);
  if (it == routes.end()) it = routes.emplace(std::string(route), ByStatus{}).first;
  auto& counter = it->second[http_status];
  if (!counter) counter = &RequestCounter(route, http_status);
  counter->fetch_add(1, std::memory_order_relaxed);
}

void Metrics::CountWebhook(std::string_view outcome) {
  std::lock_guard lock(mu_);
  auto it = webhooks_.find(outcome);
  if (it == webhooks_.end()) it = webhooks_.emplace(std::string(outcome), 0).first;
  ++it->second;
}

uint64_t Metrics::WebhookCount(std::string_view outcome) const {
  std::lock_guard lock(mu_);
  auto it = webhooks_.find(outcome);
  return it == webhooks_.end() ? 0 : it->second;
}

void Metrics::AddGaugeProvider(std::function<void(std::string&)> provider) {
  std::lock_guard lock(mu_);
  gauges_.push_back(std::move(provider));
}

std::string Metrics::RenderPrometheus() const {
  std::string out;
  std::vector<std::function<void(std::string&)>> gauges;
  {
    std::lock_guard lock(mu_);
    out += "# HELP bluegate_http_requests_total HTTP requests by route and status.\n";
    out += "# TYPE bluegate_http_requests_total counter\n";
    for (const auto& [key, n] : requests_) {
      out += "bluegate_http_requests_total{route=\"" + key.first + "\",status=\"" +
             std::to_string(key.second) + "\"} " +
             std::to_string(n->load(std::memory_order_relaxed)) + "\n";
    }
    out += "# HELP bluegate_webhook_deliveries_total Webhook delivery attempts by outcome.\n";
    out += "# TYPE bluegate_webhook_deliveries_total counter\n";
    for (const auto& [outcome, n] : webhooks_) {
      out += "bluegate_webhook_deliveries_total{outcome=\"" + outcome + "\"} " + std::to_string(n) +
             "\n";
    }
    gauges = gauges_;
  }
  out += "# HELP bluegate_messages_total Messages that reached each status.\n";
  out += "# TYPE bluegate_messages_total counter\n";
  for (size_t i = 0; i < statuses_.size(); ++i) {
    out += "bluegate_messages_total{status=\"" + std::string(StatusName(static_cast<Status>(i))) +
           "\"} " + std::to_string(statuses_[i].load(std::memory_order_relaxed)) + "\n";
  }
  out +=
      "# HELP bluegate_carrier_resubmits_total Messages re-submitted after a crash or an unknown "
      "outcome.\n";
  out += "# TYPE bluegate_carrier_resubmits_total counter\n";
  out += "bluegate_carrier_resubmits_total " + std::to_string(resubmits_.load()) + "\n";
  out +=
      "# HELP bluegate_inbound_unrouted_total Inbound messages on shared lines from numbers no "
      "account registered, kept for the operator (bluegate inbound unrouted).\n";
  out += "# TYPE bluegate_inbound_unrouted_total counter\n";
  out += "bluegate_inbound_unrouted_total " + std::to_string(unrouted_.load()) + "\n";
  out +=
      "# HELP bluegate_media_compressions_total Attachments over SMS's limit compressed to fit "
      "(ok) or that could not be (failed).\n";
  out += "# TYPE bluegate_media_compressions_total counter\n";
  out += "bluegate_media_compressions_total{result=\"ok\"} " + std::to_string(compressed_.load()) +
         "\n";
  out += "bluegate_media_compressions_total{result=\"failed\"} " +
         std::to_string(compress_failed_.load()) + "\n";
  out += "# HELP bluegate_media_compression_seconds_total Time spent compressing attachments.\n";
  out += "# TYPE bluegate_media_compression_seconds_total counter\n";
  out += "bluegate_media_compression_seconds_total " +
         std::to_string(static_cast<double>(compress_ms_.load()) / 1000.0) + "\n";
  for (const auto& g : gauges) g(out);
  return out;
}

}  // namespace bluegate
