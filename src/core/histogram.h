// A Prometheus histogram: counts of observations at or under each bound, their sum and count.
// Observing is lock-free (an atomic add per bucket touched); rendering reads without stopping
// observers, so a scrape may see a count one ahead of its buckets, as Prometheus allows.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace bluegate {

class Histogram {
 public:
  // `bounds`: upper bounds in seconds, ascending; +Inf is added.
  explicit Histogram(std::span<const double> bounds);

  void Observe(double seconds);

  // Appends NAME_bucket{LABELS,le="..."} for each bound and +Inf, then NAME_sum and NAME_count.
  // `labels`: `key="value",...` or empty.
  void Render(std::string& out, std::string_view name, std::string_view labels) const;

  uint64_t count() const { return count_.load(std::memory_order_relaxed); }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;  // one per bound, and +Inf
  std::atomic<uint64_t> sum_us_{0};                   // microseconds
  std::atomic<uint64_t> count_{0};
};

}  // namespace bluegate
