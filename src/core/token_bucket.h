// A token bucket: `rate` tokens per second, holding at most `burst`. Pure arithmetic on an injected
// time, so limits are tested with a manual clock. Not thread-safe: owned by one line's strand.
#pragma once

#include "core/clock.h"

namespace bluegate {

class TokenBucket {
 public:
  // rate <= 0 means unlimited.
  TokenBucket(double rate_per_second, double burst);

  bool unlimited() const { return rate_ <= 0; }
  // Takes one token if one is available at `now`.
  bool TryTake(TimePoint now);
  // Takes `n` more tokens for what already went (a message of several SMS segments), going into
  // debt if need be: the next token comes that much later.
  void Charge(TimePoint now, double n);
  // The earliest time at which a token is available (now, if one is).
  TimePoint NextAvailable(TimePoint now) const;

 private:
  void Refill(TimePoint now);

  double rate_;
  double burst_;
  double tokens_;
  TimePoint last_{};
  bool started_ = false;
};

}  // namespace bluegate
