#include "app/message_pruner.h"

#include <spdlog/spdlog.h>

namespace bluegate::app {

MessagePruner::MessagePruner(store::MessageLog& log, Timers& timers, Clock& clock, PostFn post,
                             Millis retention, Millis every)
    : log_(log),
      clock_(clock),
      retention_(retention),
      every_(every),
      timer_(timers.Make(std::move(post))) {}

void MessagePruner::Start() {
  timer_->ArmAt(clock_.Now(), [this] {
    PruneOnce();
    Arm();
  });
}

int64_t MessagePruner::PruneOnce() {
  auto n = log_.PruneMessages(clock_.Now() - retention_);
  if (!n.ok()) {
    spdlog::warn("cannot delete old messages (store.message_retention): {}", n.error().message);
    return 0;
  }
  if (n.value() > 0) {
    spdlog::info("deleted {} finished messages older than store.message_retention", n.value());
  }
  return n.value();
}

void MessagePruner::Arm() {
  timer_->ArmAt(clock_.Now() + every_, [this] {
    PruneOnce();
    Arm();
  });
}

}  // namespace bluegate::app
