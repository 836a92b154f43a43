// store.message_retention: every hour, deletes the finished messages older than the retention
// (store::MessageLog::PruneMessages). Off (never constructed) when the retention is 0.
#pragma once

#include <memory>

#include "core/clock.h"
#include "core/timer.h"
#include "store/message_log.h"

namespace bluegate::app {

class MessagePruner {
 public:
  MessagePruner(store::MessageLog& log, Timers& timers, Clock& clock, PostFn post, Millis retention,
                Millis every = std::chrono::hours(1));

  // Prunes now, then every `every`.
  void Start();
  // One pass: how many messages went (0 on a store error, which is logged).
  int64_t PruneOnce();

 private:
  void Arm();

  store::MessageLog& log_;
  Clock& clock_;
  Millis retention_, every_;
  std::unique_ptr<Timer> timer_;
};

}  // namespace bluegate::app
