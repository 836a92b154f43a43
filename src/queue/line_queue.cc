#include "queue/line_queue.h"

namespace bluegate::queue {

LineQueue::LineQueue(const LineLimits& limits)
    : burst_(limits.burst_per_second, limits.burst_per_second) {}

std::variant<QueuedMessage, TimePoint, LineQueue::Empty> LineQueue::Next(TimePoint now) {
  if (waiting_.empty()) return Empty{};
  if (now < paused_until_) return paused_until_;
  if (!burst_.TryTake(now)) return burst_.NextAvailable(now);
  QueuedMessage m = std::move(waiting_.front());
  waiting_.pop_front();
  return m;
}

}  // namespace bluegate::queue
