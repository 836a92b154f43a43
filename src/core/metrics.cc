#include "core/metrics.h"

#include <unordered_map>

namespace bluegate {
namespace {

// Seconds. Requests: half a millisecond (an accept on this machine) to ten seconds.
constexpr double kRequestBounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                     0.1,    0.25,  0.5,    1,     2.5,  5,     10};
// A message's way to its final status: the carrier's reports take seconds to minutes.
constexpr double kFinalBounds[] = {0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600};
// A webhook's delay: at once when the receiver answers, hours when retries wait.
constexpr double kWebhookBounds[] = {0.01, 0.025, 0.05, 0.1, 0.25, 0.5,  1,   2.5,
                                     5,    10,    30,   60,  300,  1800, 7200};

struct RouteHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
};

}  // namespace

Metrics::Metrics() : finals_{Histogram(kFinalBounds), Histogram(kFinalBounds)} {}

Histogram& Metrics::RequestHistogram(std::string_view route) {
  std::lock_guard lock(mu_);
  auto it = request_seconds_.find(route);
  if (it == request_seconds_.end()) {
    it = request_seconds_.emplace(std::string(route), std::make_unique<Histogram>(kRequestBounds))
             .first;
  }
  return *it->second;
}

void Metrics::ObserveRequest(std::string_view route, double seconds) {
  // As CountRequest: each thread remembers the histograms it has used.
  using ByRoute = std::unordered_map<std::string, Histogram*, RouteHash, std::equal_to<>>;
  thread_local std::unordered_map<const Metrics*, ByRoute> cache;
  ByRoute& routes = cache[this];
  auto it = routes.find(route);
  if (it == routes.end()) it = routes.emplace(std::string(route), &RequestHistogram(route)).first;
  it->second->Observe(seconds);
}

void Metrics::ObserveWebhook(std::string_view kind, double seconds) {
  Histogram* h = nullptr;
  {
    std::lock_guard lock(mu_);
    auto it = webhook_seconds_.find(kind);
    if (it == webhook_seconds_.end()) {
      it = webhook_seconds_.emplace(std::string(kind), std::make_unique<Histogram>(kWebhookBounds))
               .first;
    }
    h = it->second.get();
  }
  h->Observe(seconds);
}

std::atomic<uint64_t>& Metrics::RequestCounter(std::string_view route, int http_status) {
  std::lock_guard lock(mu_);
  auto& slot = requests_[{std::string(route), http_status}];
  if (!slot) slot = std::make_unique<std::atomic<uint64_t>>(0);
  return *slot;
}

void Metrics::CountRequest(std::string_view route, int http_status) {
  // The hot path takes no lock and allocates nothing once warm: each thread remembers the
  // counters it has used, looked up by the route as a string_view.
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
    out +=
        "# HELP bluegate_http_request_duration_seconds Time from a request read whole to its "
        "answer ready, by route.\n";
    out += "# TYPE bluegate_http_request_duration_seconds histogram\n";
    for (const auto& [route, h] : request_seconds_) {
      h->Render(out, "bluegate_http_request_duration_seconds", "route=\"" + route + "\"");
    }
    out +=
        "# HELP bluegate_webhook_delivery_latency_seconds Time from a status change or event to "
        "its webhook's delivery (retries included), by kind.\n";
    out += "# TYPE bluegate_webhook_delivery_latency_seconds histogram\n";
    for (const auto& [kind, h] : webhook_seconds_) {
      h->Render(out, "bluegate_webhook_delivery_latency_seconds", "kind=\"" + kind + "\"");
    }
    gauges = gauges_;
  }
  out +=
      "# HELP bluegate_message_final_seconds Time from a message's accept to its final status, "
      "by service.\n";
  out += "# TYPE bluegate_message_final_seconds histogram\n";
  finals_[0].Render(out, "bluegate_message_final_seconds", "service=\"iMessage\"");
  finals_[1].Render(out, "bluegate_message_final_seconds", "service=\"SMS\"");
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
