// Timers, injected like the clock (core/clock.h): code that waits takes a Timers& and arms its
// timers against Clock time, so that tests drive both with testing::ManualTimers and never sleep.
// The production timers are queue/asio_timers.h.
#pragma once

#include <functional>
#include <memory>

#include "core/clock.h"

namespace bluegate {

// Runs a function on its owner's executor (for a line: asio::post to the line's strand).
using PostFn = std::function<void(std::function<void()>)>;

// One timer. Arm and cancel it from the executor its calls are posted to; it may be destroyed
// anywhere (a destroyed timer's pending call never runs).
class Timer {
 public:
  virtual ~Timer() = default;
  // Posts `fn` once the clock reaches `at` (at once when it has), replacing whatever was armed: a
  // replaced or cancelled call never runs.
  virtual void ArmAt(TimePoint at, std::function<void()> fn) = 0;
  virtual void Cancel() = 0;
};

class Timers {
 public:
  virtual ~Timers() = default;
  // A timer whose calls are handed to `post`. Thread-safe.
  virtual std::unique_ptr<Timer> Make(PostFn post) = 0;
};

}  // namespace bluegate
