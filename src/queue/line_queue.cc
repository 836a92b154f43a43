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

void LineQueue::Push(QueuedMessage m) {
  auto& q = m.new_contact ? first_ : known_;
  const int64_t seq = m.message.message_id;
  q.push_back(Waiting{seq, std::move(m)});
}

void LineQueue::PushFront(QueuedMessage m) {
  auto& q = m.new_contact ? first_ : known_;
  q.push_front(Waiting{--front_seq_, std::move(m)});
}

std::deque<QueuedMessage> LineQueue::TakeAll() {
  std::deque<QueuedMessage> out;
  while (!known_.empty() || !first_.empty()) {
    const bool first =
        !first_.empty() && (known_.empty() || first_.front().seq < known_.front().seq);
    auto& q = first ? first_ : known_;
    out.push_back(std::move(q.front().m));
    q.pop_front();
  }
  return out;
}

std::variant<QueuedMessage, TimePoint, LineQueue::Empty> LineQueue::Next(TimePoint now) {
  if (known_.empty() && first_.empty()) return Empty{};
  if (now < paused_until_) return paused_until_;
  if (const TimePoint next = burst_.NextAvailable(now); next > now) return next;
  // The first message that may go: the older of the two heads, but a first message only when a
  // new-contact slot is free; messages to known contacts are not held up behind it.
  bool take_first = false;
  if (!first_.empty() && (known_.empty() || first_.front().seq < known_.front().seq)) {
    const TimePoint slot = new_contacts_.NextSlot(now);
    if (slot <= now) {
      take_first = true;
    } else if (known_.empty()) {
      return slot;
    }
  }
  burst_.TryTake(now);
  auto& q = take_first ? first_ : known_;
  if (take_first) new_contacts_.TryTake(now);
  QueuedMessage m = std::move(q.front().m);
  q.pop_front();
  if (m.segments > 1) burst_.Charge(now, m.segments - 1);
  return m;
}

}  // namespace bluegate::queue
