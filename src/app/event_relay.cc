#include "app/event_relay.h"

#include <spdlog/spdlog.h>

namespace bluegate::app {

EventRelay::EventRelay(store::MessageQueries& store, EventHub& hub, Timers& timers, Clock& clock,
                       PostFn post)
    : store_(store), hub_(hub), clock_(clock), timer_(timers.Make(std::move(post))) {}

Result<Ok> EventRelay::Start(Millis every) {
  auto now = store_.AnnouncedEventsSince(0, 0);
  if (!now.ok()) return now.error();
  {
    std::lock_guard lock(mu_);
    seen_ = now->newest;
    every_ = every;
  }
  Arm();
  return Ok{};
}

void EventRelay::Poll() {
  std::lock_guard lock(mu_);
  for (;;) {
    auto page = store_.AnnouncedEventsSince(seen_, kPage);
    if (!page.ok()) {
      spdlog::warn("cannot read events written by other processes: {}", page.error().message);
      return;
    }
    for (const auto& e : page->events) {
      hub_.Publish(e.account_id, e.type, e.data, e.at);
      seen_ = e.seq;
    }
    if (page->events.size() < static_cast<size_t>(kPage)) return;
  }
}

void EventRelay::Arm() {
  timer_->ArmAt(clock_.Now() + every_, [this] {
    Poll();
    Arm();
  });
}

}  // namespace bluegate::app
