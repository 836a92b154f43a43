#include "core/token_bucket.h"

#include <algorithm>
#include <cmath>

namespace bluegate {

TokenBucket::TokenBucket(double rate_per_second, double burst)
    : rate_(rate_per_second), burst_(std::max(1.0, burst)), tokens_(burst_) {}

void TokenBucket::Refill(TimePoint now) {
  if (!started_) {
    started_ = true;
    last_ = now;
    return;
  }
  if (now <= last_) return;
  const double elapsed = std::chrono::duration<double>(now - last_).count();
  tokens_ = std::min(burst_, tokens_ + elapsed * rate_);
  last_ = now;
}

bool TokenBucket::TryTake(TimePoint now) {
  if (unlimited()) return true;
  Refill(now);
  if (tokens_ >= 1.0) {
    tokens_ -= 1.0;
    return true;
  }
  return false;
}

void TokenBucket::Charge(TimePoint now, double n) {
  if (unlimited() || n <= 0) return;
  Refill(now);
  tokens_ -= n;
}

TimePoint TokenBucket::NextAvailable(TimePoint now) const {
  if (unlimited() || !started_) return now;
  const double elapsed = now > last_ ? std::chrono::duration<double>(now - last_).count() : 0.0;
  const double have = std::min(burst_, tokens_ + elapsed * rate_);
  if (have >= 1.0) return now;
  const double wait_s = (1.0 - have) / rate_;
  return now + Millis(static_cast<int64_t>(std::ceil(wait_s * 1000.0)));
}

}  // namespace bluegate
