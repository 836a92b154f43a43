// Timers that fire only when a test moves its ManualClock through them.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <tuple>
#include <vector>

#include "core/timer.h"
#include "testing/manual_clock.h"

namespace bluegate::testing {

class ManualTimers final : public Timers {
 public:
  explicit ManualTimers(ManualClock& clock) : clock_(clock) {}
  // Drops every call still armed: they hold their owners (a line driver's `self`), which hold
  // their timers, which hold the registry.
  ~ManualTimers() override {
    decltype(registry_->armed) dropped;
    {
      std::lock_guard lock(registry_->mu);
      dropped.swap(registry_->armed);
    }
  }

  std::unique_ptr<Timer> Make(PostFn post) override {
    return std::make_unique<OneTimer>(registry_, std::move(post));
  }

  // When the earliest armed call is due, if one is.
  std::optional<TimePoint> NextDue() const {
    std::lock_guard lock(registry_->mu);
    if (registry_->armed.empty()) return std::nullopt;
    return std::get<0>(registry_->armed.begin()->first);
  }
  size_t armed() const {
    std::lock_guard lock(registry_->mu);
    return registry_->armed.size();
  }

  // Posts every call due at the clock's time, in due order; returns how many.
  size_t FireDue() {
    std::vector<std::pair<PostFn, std::function<void()>>> due;
    {
      std::lock_guard lock(registry_->mu);
      auto& armed = registry_->armed;
      while (!armed.empty() && std::get<0>(armed.begin()->first) <= clock_.Now()) {
        due.push_back(std::move(armed.begin()->second));
        armed.erase(armed.begin());
      }
    }
    for (auto& [post, fn] : due) post(std::move(fn));
    return due.size();
  }

  // Moves the clock forward by `d`, stopping at each armed time on the way to fire what is due
  // and to `settle` (run what the calls posted, which may arm timers again) before going on.
  void Advance(Millis d, const std::function<void()>& settle) {
    const TimePoint target = clock_.Now() + d;
    settle();
    for (;;) {
      auto next = NextDue();
      if (!next || *next > target) break;
      if (*next > clock_.Now()) clock_.Set(*next);
      FireDue();
      settle();
    }
    clock_.Set(target);
    FireDue();
    settle();
  }

 private:
  struct Registry {
    std::mutex mu;
    uint64_t next_id = 0;
    // (due, id) → what to post: the id orders calls due at the same time as they were armed.
    std::map<std::tuple<TimePoint, uint64_t>, std::pair<PostFn, std::function<void()>>> armed;
  };

  class OneTimer final : public Timer {
   public:
    OneTimer(std::shared_ptr<Registry> registry, PostFn post)
        : registry_(std::move(registry)), post_(std::move(post)) {}
    ~OneTimer() override { Cancel(); }
    void ArmAt(TimePoint at, std::function<void()> fn) override {
      std::lock_guard lock(registry_->mu);
      if (key_) registry_->armed.erase(*key_);
      key_ = std::make_tuple(at, registry_->next_id++);
      registry_->armed.emplace(*key_, std::make_pair(post_, std::move(fn)));
    }
    void Cancel() override {
      std::lock_guard lock(registry_->mu);
      if (key_) registry_->armed.erase(*key_);
      key_.reset();
    }

   private:
    std::shared_ptr<Registry> registry_;
    PostFn post_;
    std::optional<std::tuple<TimePoint, uint64_t>> key_;
  };

  ManualClock& clock_;
  std::shared_ptr<Registry> registry_ = std::make_shared<Registry>();
};

}  // namespace bluegate::testing
