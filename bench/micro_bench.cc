// Micro-benchmarks of the per-request work on the accept path (Google Benchmark):
// `build/bench/bluegate_micro_bench`, or `bench/run.sh micro`.
#include <benchmark/benchmark.h>

#include "api/request_decoding.h"
#include "core/message_json.h"
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

}  // namespace
}  // namespace bluegate

BENCHMARK_MAIN();
