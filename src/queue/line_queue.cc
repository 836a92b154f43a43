#include "queue/line_queue.h"

#include <algorithm>

namespace bluegate::queue {

LineQueue::LineQueue(const LineLimits& limits)
    : burst_(limits.burst_per_second, limits.burst_per_second),
      new_contacts_(limits.new_contacts) {}

void LineQueue::SetLimits(const LineLimits& limits) {
  burst_ = TokenBucket(limits.burst_per_second, limits.burst_per_second);
  new_contacts_.SetLimits(limits.new_contacts);
}

std::variant<QueuedMessage, TimePoint, LineQueue::Empty> LineQueue::Next(TimePoint now) {
  if (waiting_.empty()) return Empty{};
  if (now < paused_until_) return paused_until_;
  if (const TimePoint next = burst_.NextAvailable(now); next > now) return next;
  // The first message that may go: any message to a known contact, or a first message when a
  // new-contact slot is free.
  const TimePoint slot = new_contacts_.NextSlot(now);
  auto it = waiting_.begin();
  if (slot > now) {
    it = std::find_if(waiting_.begin(), waiting_.end(),
                      [](const QueuedMessage& m) { return !m.new_contact; });
    if (it == waiting_.end()) return slot;
  }
  burst_.TryTake(now);
  if (it->new_contact) new_contacts_.TryTake(now);
  QueuedMessage m = std::move(*it);
  waiting_.erase(it);
  return m;
}

}  // namespace bluegate::queue
