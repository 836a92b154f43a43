// Counters and gauges for GET /metrics (Prometheus text format). Thread-safe; counting costs an
// atomic increment or a short lock.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/histogram.h"
#include "core/status.h"

namespace bluegate {

class Metrics {
 public:
  Metrics();
  void CountRequest(std::string_view route, int http_status);
  // How long a request took, from read whole to its answer ready, by route pattern.
  void ObserveRequest(std::string_view route, double seconds);
  // From accept to a final status (DELIVERED, ERROR, DECLINED; SENT for SMS), by service.
  void ObserveFinal(Service service, double seconds) {
    finals_[service == Service::kSms ? 1 : 0].Observe(seconds);
  }
  // From a status change (or event) to its webhook's delivery, by kind ("status_callback",
  // "outbound", "receive", ...).
  void ObserveWebhook(std::string_view kind, double seconds);
  void CountStatus(Status s) {
    statuses_[static_cast<size_t>(s)].fetch_add(1, std::memory_order_relaxed);
  }
  // outcome: "delivered", "retry", "failed" (schedule exhausted), "disabled" (410),
  // "superseded" (a newer status of the message went instead).
  void CountWebhook(std::string_view outcome);
  void CountCarrierResubmit() { resubmits_.fetch_add(1, std::memory_order_relaxed); }
  // An inbound message on a shared line that no account had registered the sender for.
  void CountUnroutedInbound() { unrouted_.fetch_add(1, std::memory_order_relaxed); }
  uint64_t UnroutedInbound() const { return unrouted_.load(); }
  // An attachment compressed to fit SMS (ok) or that could not be; the time it took.
  void CountMediaCompression(bool ok, Millis took) {
    (ok ? compressed_ : compress_failed_).fetch_add(1, std::memory_order_relaxed);
    compress_ms_.fetch_add(static_cast<uint64_t>(took.count()), std::memory_order_relaxed);
  }
  uint64_t MediaCompressions(bool ok) const { return (ok ? compressed_ : compress_failed_).load(); }

  uint64_t StatusCount(Status s) const { return statuses_[static_cast<size_t>(s)].load(); }
  uint64_t WebhookCount(std::string_view outcome) const;
  uint64_t CarrierResubmits() const { return resubmits_.load(); }

  // Gauges computed at scrape time: each provider appends "name{labels} value\n" lines.
  void AddGaugeProvider(std::function<void(std::string&)> provider);

  std::string RenderPrometheus() const;

 private:
  std::atomic<uint64_t>& RequestCounter(std::string_view route, int http_status);
  Histogram& RequestHistogram(std::string_view route);

  mutable std::mutex mu_;
  // Counters are created once under mu_ and never removed, so threads may cache pointers to them.
  std::map<std::pair<std::string, int>, std::unique_ptr<std::atomic<uint64_t>>> requests_;
  std::map<std::string, uint64_t, std::less<>> webhooks_;
  std::map<std::string, std::unique_ptr<Histogram>, std::less<>> request_seconds_;
  std::map<std::string, std::unique_ptr<Histogram>, std::less<>> webhook_seconds_;
  std::array<Histogram, 2> finals_;  // iMessage, SMS
  std::vector<std::function<void(std::string&)>> gauges_;
  std::array<std::atomic<uint64_t>, 9> statuses_{};
  std::atomic<uint64_t> resubmits_{0};
  std::atomic<uint64_t> unrouted_{0};
  std::atomic<uint64_t> compressed_{0};
  std::atomic<uint64_t> compress_failed_{0};
  std::atomic<uint64_t> compress_ms_{0};
};

}  // namespace bluegate
