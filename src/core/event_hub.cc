#include "core/event_hub.h"

#include <algorithm>

namespace bluegate {

std::vector<std::string> EventSubscription::Take() {
  std::lock_guard lock(mu_);
  std::vector<std::string> out(std::make_move_iterator(frames_.begin()),
                               std::make_move_iterator(frames_.end()));
  frames_.clear();
  return out;
}

void EventSubscription::SetWake(std::function<void()> wake) {
  std::lock_guard lock(mu_);
  wake_ = std::move(wake);
}

bool EventSubscription::overflowed() const {
  std::lock_guard lock(mu_);
  return overflowed_;
}

void EventSubscription::End() {
  std::function<void()> wake;
  {
    std::lock_guard lock(mu_);
    ended_ = true;
    wake = wake_;
  }
  if (wake) wake();
}

bool EventSubscription::closed() const {
  std::lock_guard lock(mu_);
  return overflowed_ || ended_;
}

void EventSubscription::Push(const std::string& frame) {
  std::function<void()> wake;
  {
    std::lock_guard lock(mu_);
    if (overflowed_) return;
    if (frames_.size() >= max_queued_) {
      // The client is not reading: drop what waits (memory stays bounded) and have its
      // connection closed, rather than deliver a stream with a silent gap.
      overflowed_ = true;
      frames_.clear();
      frames_.shrink_to_fit();
    } else {
      frames_.push_back(frame);
    }
    wake = wake_;
  }
  if (wake) wake();
}

const std::set<std::string>& EventHub::Types() {
  // Every type the SDK names; bluegate produces the first six and line.blocked.
  static const std::set<std::string> types{
      "message.created",       "message.updated",      "message.received",
      "typing.changed",        "line.status.changed",  "contact.created",
      "line.blocked",          "line.assigned",        "line.unassigned",
      "verification.approved", "verification.expired", "verification.canceled"};
  return types;
}

std::shared_ptr<EventSubscription> EventHub::Subscribe(int64_t account_id,
                                                       std::set<std::string> types,
                                                       std::function<void()> wake) {
  auto s = std::make_shared<EventSubscription>(account_id, std::move(types), std::move(wake),
                                               limits_.max_queued_frames);
  std::lock_guard lock(mu_);
  auto& streams = by_account_[account_id];
  if (streams.size() >= limits_.max_streams_per_account) {
    if (streams.empty()) by_account_.erase(account_id);
    return nullptr;
  }
  streams.push_back(s);
  subscribers_.fetch_add(1, std::memory_order_relaxed);
  return s;
}

void EventHub::Unsubscribe(const std::shared_ptr<EventSubscription>& s) {
  std::lock_guard lock(mu_);
  auto it = by_account_.find(s->account_id());
  if (it == by_account_.end()) return;
  auto& v = it->second;
  const auto before = v.size();
  v.erase(std::remove(v.begin(), v.end(), s), v.end());
  subscribers_.fetch_sub(before - v.size(), std::memory_order_relaxed);
  if (v.empty()) by_account_.erase(it);
}

bool EventHub::Listening(int64_t account_id) const {
  if (subscribers_.load(std::memory_order_relaxed) == 0) return false;
  std::lock_guard lock(mu_);
  return by_account_.count(account_id) > 0;
}

void EventHub::Publish(int64_t account_id, const std::string& type, const std::string& data,
                       TimePoint at) {
  if (subscribers_.load(std::memory_order_relaxed) == 0) return;
  std::vector<std::shared_ptr<EventSubscription>> targets;
  {
    std::lock_guard lock(mu_);
    auto it = by_account_.find(account_id);
    if (it == by_account_.end()) return;
    for (const auto& s : it->second) {
      if (s->Wants(type)) targets.push_back(s);
    }
  }
  if (targets.empty()) return;
  const std::string id = std::to_string(next_id_.fetch_add(1, std::memory_order_relaxed));
  const std::string frame = "id: " + id + "\nevent: " + type + "\ndata: {\"id\":\"" + id +
                            "\",\"type\":\"" + type + "\",\"version\":1,\"occurred_at\":\"" +
                            FormatIso8601(at) + "\",\"data\":" + data + "}\n\n";
  for (const auto& s : targets) s->Push(frame);
}

}  // namespace bluegate
