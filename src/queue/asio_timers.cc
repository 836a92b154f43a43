#include "queue/asio_timers.h"

#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <atomic>

namespace bluegate::queue {
namespace {

namespace asio = boost::asio;

class AsioTimer final : public Timer {
 public:
  AsioTimer(asio::io_context& io, Clock& clock, PostFn post)
      : timer_(io), clock_(clock), post_(std::move(post)) {}
  ~AsioTimer() override {
    ++*generation_;
    timer_.cancel();
  }

  void ArmAt(TimePoint at, std::function<void()> fn) override {
    const uint64_t armed = ++*generation_;
    const auto wait = std::max(Millis(1), std::chrono::duration_cast<Millis>(at - clock_.Now()));
    timer_.expires_after(wait);
    // The steady_timer completes on any of the io_context's threads; the call is posted to the
    // owner's executor and runs there only if nothing re-armed or cancelled the timer meanwhile
    // (both of which happen on that executor too).
    timer_.async_wait([generation = generation_, armed, post = post_,
                       fn = std::move(fn)](const boost::system::error_code& ec) mutable {
      if (ec) return;
      post([generation, armed, fn = std::move(fn)] {
        if (generation->load() == armed) fn();
      });
    });
  }

  void Cancel() override {
    ++*generation_;
    timer_.cancel();
  }

 private:
  asio::steady_timer timer_;
  Clock& clock_;
  PostFn post_;
  std::shared_ptr<std::atomic<uint64_t>> generation_ = std::make_shared<std::atomic<uint64_t>>(0);
};

class AsioTimers final : public Timers {
 public:
  AsioTimers(asio::io_context& io, Clock& clock) : io_(io), clock_(clock) {}
  std::unique_ptr<Timer> Make(PostFn post) override {
    return std::make_unique<AsioTimer>(io_, clock_, std::move(post));
  }

 private:
  asio::io_context& io_;
  Clock& clock_;
};

}  // namespace

std::unique_ptr<Timers> MakeAsioTimers(asio::io_context& io, Clock& clock) {
  return std::make_unique<AsioTimers>(io, clock);
}

}  // namespace bluegate::queue
