// Publishes the account events another process wrote to the store (an admin command such as
// `bluegate sim inbound`, which has no event stream of its own) on this server's /api/v2/events,
// polling for them as the outbound engine polls for line changes.
#pragma once

#include <memory>
#include <mutex>

#include "core/event_hub.h"
#include "core/timer.h"
#include "store/message_queries.h"

namespace bluegate::app {

class EventRelay {
 public:
  EventRelay(store::MessageQueries& store, EventHub& hub, Timers& timers, Clock& clock,
             PostFn post);

  // Skips what was written before now, then polls every `every`.
  [[nodiscard]] Result<Ok> Start(Millis every);

  // Publishes what was written since the last call, a page of reads at a time. Thread-safe.
  void Poll();

 private:
  static constexpr int kPage = 500;
  void Arm();

  store::MessageQueries& store_;
  EventHub& hub_;
  Clock& clock_;
  std::mutex mu_;
  int64_t seen_ = 0;  // the last seq published
  Millis every_{1000};
  std::unique_ptr<Timer> timer_;
};

}  // namespace bluegate::app
