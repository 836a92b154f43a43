// The store's writer alone, without HTTP or a receiver sharing the cores: a message's life with a
// status_callback (accept with its REGISTERED, PENDING and QUEUED deliveries, SENT and DELIVERED
// with theirs, then the six first-try successes recorded), in waves that keep the writer's queue
// full as the server's threads do. The figure is messages per second; divide the time by six for
// one callback's share of the writer.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <mutex>
#include <string>
#include <vector>

#include "store/sqlite/sqlite_store.h"

namespace bluegate::store {
namespace {

constexpr int kWave = 512;  // messages in flight at once

// Waits for `n` asynchronous completions.
class Countdown {
 public:
  explicit Countdown(int n) : left_(n) {}
  void Done() {
    if (left_.fetch_sub(1) == 1) all_.set_value();
  }
  void Wait() { all_.get_future().wait(); }

 private:
  std::atomic<int> left_;
  std::promise<void> all_;
};

class Fixture {
 public:
  Fixture()
      : dir_(std::filesystem::temp_directory_path() /
             ("bluegate-store-bench-" + std::to_string(::getpid()))) {
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    SqliteSettings s;
    s.path = (dir_ / "bench.db").string();
    store_ = MakeSqliteStore(s, SystemClock());
    account_ = store_->CreateAccount("bench@example.com", "blue").value().id;
    if (!store_->AddLine(Line{"+12125550199", account_, "sim", "{}", {}}).ok()) std::abort();
    store_->SetDeliveryObserver([this](std::vector<Delivery> ds) {
      std::lock_guard lock(mu_);
      for (auto& d : ds) created_.push_back(d.id);
    });
  }
  ~Fixture() {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  void Wave() {
    std::vector<int64_t> ids(kWave);
    Countdown accepted(kWave);
    for (int i = 0; i < kWave; ++i) {
      Message m;
      m.handle = "bench-" + std::to_string(next_++);
      m.account_id = account_;
      m.line_number = "+12125550199";
      m.contact = "+1415555" + std::to_string(1000 + next_ % 9000);
      m.content = "hello from the store bench";
      m.status = Status::kQueued;
      m.status_callback = "http://127.0.0.1:9/cb";
      m.date_created = m.date_updated = SystemClock().Now();
      store_->Accept(std::move(m), AcceptPolicy{}, [&ids, &accepted, i](Result<Message> r) {
        if (r.ok()) ids[i] = r->id;
        accepted.Done();
      });
    }
    accepted.Wait();
    for (Status to : {Status::kSent, Status::kDelivered}) {
      Countdown moved(kWave);
      for (int64_t id : ids) {
        TransitionRequest r;
        r.message_id = id;
        r.to = to;
        r.at = SystemClock().Now();
        r.source = "bench";
        store_->Transition(std::move(r), [&moved](Result<TransitionOutcome>) { moved.Done(); });
      }
      moved.Wait();
    }
    std::vector<int64_t> deliveries;
    {
      std::lock_guard lock(mu_);
      deliveries.swap(created_);
    }
    Countdown recorded(static_cast<int>(deliveries.size()));
    for (int64_t id : deliveries) {
      DeliveryAttempt a;
      a.delivery_id = id;
      a.at = SystemClock().Now();
      a.http_status = 200;
      a.latency = Millis(1);
      a.new_state = DeliveryState::kDelivered;
      a.first_try_success = true;
      store_->RecordAttempt(std::move(a), [&recorded](Result<Ok>) { recorded.Done(); });
    }
    if (!deliveries.empty()) recorded.Wait();
  }

 private:
  std::filesystem::path dir_;
  std::unique_ptr<Store> store_;
  int64_t account_ = 0;
  int64_t next_ = 0;
  std::mutex mu_;
  std::vector<int64_t> created_;
};

void BM_SqliteMessageLifeWithCallback(benchmark::State& state) {
  Fixture f;
  for (auto _ : state) f.Wave();
  state.SetItemsProcessed(state.iterations() * kWave);
}
BENCHMARK(BM_SqliteMessageLifeWithCallback)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace bluegate::store

BENCHMARK_MAIN();
