// A clock that moves only when a test says so.
#pragma once

#include <atomic>

#include "core/clock.h"

namespace bluegate::testing {

class ManualClock final : public Clock {
 public:
  explicit ManualClock(TimePoint start = FromUnixMillis(1'765'553'735'410))
      : now_(ToUnixMillis(start)) {}
  TimePoint Now() const override { return FromUnixMillis(now_.load()); }
  void Advance(Millis d) { now_ += d.count(); }
  void Set(TimePoint t) { now_ = ToUnixMillis(t); }

 private:
  std::atomic<int64_t> now_;
};

}  // namespace bluegate::testing
