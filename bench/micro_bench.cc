// Micro-benchmarks of the per-request work on the accept path (Google Benchmark):
// `build/bench/bluegate_micro_bench`, or `bench/run.sh micro`.
#include <benchmark/benchmark.h>

#include "queue/line_queue.h"

#include "api/rate_limiter.h"
#include "api/request_decoding.h"
#include "core/message_json.h"
#include "core/clock.h"
#include "core/phone.h"
#include "core/send_request.h"
#include "core/token_bucket.h"

namespace bluegate {
namespace {

const char* kBody =
    R"({"number":"+14155550100","from_number":"+12125550199","content":"Hello from the benchmark",)"
    R"("send_style":"slam","status_callback":"https://hooks.example.com/sendblue"})";

void BM_PhoneNormalizeCached(benchmark::State& state) {
  PhoneNumbers phones;
  for (auto _ : state) benchmark::DoNotOptimize(phones.Normalize("+14155550100", "number"));
}
BENCHMARK(BM_PhoneNormalizeCached);

void BM_PhoneNormalizeUncached(benchmark::State& state) {
  PhoneNumbers phones;
  int64_t i = 0;
  for (auto _ : state) {
    // A different number every time (the cache holds 100k), so libphonenumber does the work.
    const std::string n = "+1212" + std::to_string(2'000'000 + (i++ % 7'000'000));
    benchmark::DoNotOptimize(phones.Normalize(n, "number"));
  }
}
BENCHMARK(BM_PhoneNormalizeUncached);

void BM_DecodeAndValidateSendRequest(benchmark::State& state) {
  PhoneNumbers phones;
  api::HttpRequest req;
  req.method = "POST";
  req.headers.emplace_back("content-type", "application/json");
  req.body = kBody;
  for (auto _ : state) {
    auto decoded = api::DecodeSendRequest(req);
    benchmark::DoNotOptimize(ValidateSend(decoded.value(), phones));
  }
}
BENCHMARK(BM_DecodeAndValidateSendRequest);

void BM_RenderMessageJson(benchmark::State& state) {
  Message m;
  m.handle = "0190f3b2-7c1e-7a44-9b1d-3f5e2a7c9d10";
  m.account_email = "dev@bluegate.local";
  m.plan = "blue";
  m.content = "Hello from the benchmark";
  m.line_number = "+12125550199";
  m.contact = "+14155550100";
  m.status = Status::kQueued;
  for (auto _ : state) benchmark::DoNotOptimize(RenderMessageJson(m));
}
BENCHMARK(BM_RenderMessageJson);

void BM_TokenBucketTake(benchmark::State& state) {
  TokenBucket bucket(1e9, 1e9);
  TimePoint now = FromUnixMillis(0);
  for (auto _ : state) {
    now += Millis(1);
    benchmark::DoNotOptimize(bucket.TryTake(now));
  }
}
BENCHMARK(BM_TokenBucketTake);

// Every authenticated request asks the account rate limiter; a send is covered by no default
// rule, so this is the cost each send pays (the rule list read under a shared lock, which SIGHUP
// may replace), on one thread and on two at once.
void BM_RateLimiterTakeUncovered(benchmark::State& state) {
  static api::RateLimiter limiter(api::DefaultRateRules(), SystemClock());
  for (auto _ : state) {
    benchmark::DoNotOptimize(limiter.Take(1, "POST", "/api/send-message"));
  }
}
BENCHMARK(BM_RateLimiterTakeUncovered)->Threads(1)->Threads(2);

// The per-line limit check as a line's strand runs it: a message joins the queue and Next()
// decides whether it may go (burst bucket, then the new-contact window). SPEC §6 defaults; time
// moves on 400 ms per message so the 10/s burst never empties.
queue::QueuedMessage BenchMessage(int64_t id, bool new_contact) {
  queue::QueuedMessage m;
  m.message.message_id = id;
  m.message.line = "+14155550100";
  m.message.to = "+12125550100";
  m.message.content = "hello";
  m.new_contact = new_contact;
  return m;
}

void BM_LineLimitCheckKnownContact(benchmark::State& state) {
  queue::LineQueue q(queue::LineLimits{});
  TimePoint now = FromUnixMillis(1'765'553'735'410);
  int64_t id = 0;
  for (auto _ : state) {
    now += Millis(400);
    q.Push(BenchMessage(++id, false));
    benchmark::DoNotOptimize(q.Next(now));
  }
}
BENCHMARK(BM_LineLimitCheckKnownContact);

// A first message, with the window holding a day of starts: every check counts the day's and the
// hour's new contacts. Limits high enough that each one goes, so the window keeps growing.
void BM_LineLimitCheckNewContact(benchmark::State& state) {
  queue::LineLimits limits;
  limits.new_contacts = NewContactLimits{1'000'000, 1'000'000};
  queue::LineQueue q(limits);
  TimePoint now = FromUnixMillis(1'765'553'735'410);
  int64_t id = 0;
  for (auto _ : state) {
    now += Millis(400);
    q.Push(BenchMessage(++id, true));
    benchmark::DoNotOptimize(q.Next(now));
  }
}
BENCHMARK(BM_LineLimitCheckNewContact);

// The SPEC §6 window at its limits with a nearly full queue of first messages waiting (1,400 of
// the default 1,500): a known contact's message still goes at once.
void BM_LineLimitCheckPastWaitingFirstMessages(benchmark::State& state) {
  queue::LineQueue q(queue::LineLimits{});
  TimePoint now = FromUnixMillis(1'765'553'735'410);
  int64_t id = 0;
  for (int i = 0; i < 1'400; ++i) {
    q.Push(BenchMessage(++id, true));
    now += Millis(400);
    (void)q.Next(now);
  }
  for (auto _ : state) {
    now += Millis(400);
    q.Push(BenchMessage(++id, false));
    benchmark::DoNotOptimize(q.Next(now));
  }
}
BENCHMARK(BM_LineLimitCheckPastWaitingFirstMessages);

}  // namespace
}  // namespace bluegate

BENCHMARK_MAIN();
