// SMPP throughput over one bind: submits per second to an SMSC with a given window, and how fast
// the receipts that come back are turned into DELIVERED reports. Drives the SMPP carrier directly
// (no HTTP, no store) so that the number is the carrier's own:
//   bluegate_smpp_bench --port P [--messages N] [--window W] [--segments 1|2]
// bench/run.sh smpp starts the test SMSC (bench/smsc_server.mjs) and runs windows 1, 10 and 50.
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <future>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>

#include "carriers/smpp/smpp_carrier.h"

namespace {

using namespace bluegate;
using Steady = std::chrono::steady_clock;

class CountingSink final : public carriers::CarrierSink {
 public:
  void OnCarrierEvent(carriers::CarrierEvent e) override {
    std::lock_guard lock(mu_);
    if (e.kind == carriers::CarrierEvent::Kind::kHealth) {
      online_ = e.health == carriers::LineHealth::kOnline;
      health_reason_ = e.reason;
    } else if (e.kind == carriers::CarrierEvent::Kind::kStatus) {
      if (e.status == Status::kSent) ++sent_;
      if (e.status == Status::kDelivered) {
        if (delivered_++ == 0) first_delivered_ = Steady::now();
        last_delivered_ = Steady::now();
      }
      if (e.status == Status::kError) ++errors_;
    }
    cv_.notify_all();
  }
  template <typename Pred>
  bool WaitFor(Pred pred, std::chrono::seconds timeout) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return pred(*this); });
  }
  bool online_ = false;
  std::string health_reason_;
  int64_t sent_ = 0, delivered_ = 0, errors_ = 0;
  Steady::time_point first_delivered_, last_delivered_;

 private:
  std::mutex mu_;
  std::condition_variable cv_;
};

std::string Arg(int argc, char** argv, const std::string& name, const std::string& fallback) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (argv[i] == name) return argv[i + 1];
  }
  return fallback;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string port = Arg(argc, argv, "--port", "");
  if (port.empty()) {
    std::cerr << "usage: bluegate_smpp_bench --port P [--messages N] [--window W] [--segments S]\n";
    return 2;
  }
  const int64_t n = std::stoll(Arg(argc, argv, "--messages", "20000"));
  const std::string window = Arg(argc, argv, "--window", "10");
  const int segments = std::stoi(Arg(argc, argv, "--segments", "1"));

  auto settings = carriers::smpp::ParseSmppSettings({{"host", "127.0.0.1"},
                                                     {"port", port},
                                                     {"system_id", "bluegate"},
                                                     {"password", "secret"},
                                                     {"window", window}});
  if (!settings.ok()) {
    std::cerr << settings.error().message << "\n";
    return 2;
  }
  boost::asio::io_context io;
  auto guard = boost::asio::make_work_guard(io);
  std::thread runner([&io] { io.run(); });
  CountingSink sink;
  {
    auto carrier =
        carriers::smpp::MakeSmppCarrier(io, sink, SystemClock(), settings.value(), "+14155550100");
    // The first health report is ONLINE only after a change; wait for a bind by submitting once.
    std::atomic<int64_t> accepted{0}, other{0};
    const std::string text = segments > 1 ? std::string(153 * segments, 'x') : "benchmark message";
    auto submit = [&](int64_t i, std::function<void(carriers::SubmitResult)> done) {
      carriers::OutboundMessage m;
      m.message_id = i + 1;
      m.handle = "h" + std::to_string(i);
      m.line = "+14155550100";
      m.to = "+1212555" + std::to_string(1000000 + i % 9000000).substr(1);
      m.content = text;
      m.service = Service::kSms;
      carrier->Submit(std::move(m), std::move(done));
    };
    // Warm-up: retry until the bind is up.
    for (int tries = 0;; ++tries) {
      std::promise<carriers::SubmitOutcome> p;
      submit(-1, [&p](carriers::SubmitResult r) { p.set_value(r.outcome); });
      if (p.get_future().get() == carriers::SubmitOutcome::kAccepted) break;
      if (tries > 100) {
        std::cerr << "no bind: " << sink.health_reason_ << "\n";
        return 1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    sink.WaitFor([](CountingSink& s) { return s.delivered_ >= 1; }, std::chrono::seconds(10));
    const int64_t delivered_before = 1;
    const auto t0 = Steady::now();
    std::mutex mu;
    std::condition_variable cv;
    Steady::time_point last_accept;
    for (int64_t i = 0; i < n; ++i) {
      submit(i, [&](carriers::SubmitResult r) {
        if (r.outcome == carriers::SubmitOutcome::kAccepted) {
          if (accepted.fetch_add(1) + 1 == n) {
            std::lock_guard lock(mu);
            last_accept = Steady::now();
            cv.notify_all();
          }
        } else {
          other.fetch_add(1);
          cv.notify_all();
        }
      });
    }
    {
      std::unique_lock lock(mu);
      cv.wait_for(lock, std::chrono::minutes(5),
                  [&] { return accepted.load() + other.load() >= n; });
    }
    const auto accept_ms = std::chrono::duration<double, std::milli>(last_accept - t0).count();
    sink.WaitFor([&](CountingSink& s) { return s.delivered_ >= n + delivered_before; },
                 std::chrono::minutes(5));
    const auto deliver_ms =
        std::chrono::duration<double, std::milli>(sink.last_delivered_ - t0).count();
    std::cout << "window " << window << ", " << n << " messages of " << segments
              << " segment(s): " << static_cast<int64_t>(n * segments / (accept_ms / 1000))
              << " submits/s (all accepted in " << static_cast<int64_t>(accept_ms) << " ms";
    if (other.load() > 0) std::cout << ", " << other.load() << " not accepted";
    std::cout << "); receipts: " << sink.delivered_ - delivered_before << " DELIVERED, last at "
              << static_cast<int64_t>(deliver_ms) << " ms: "
              << static_cast<int64_t>((sink.delivered_ - delivered_before) * segments /
                                      (deliver_ms / 1000))
              << " receipts/s\n";
  }
  io.stop();
  runner.join();
  return 0;
}
