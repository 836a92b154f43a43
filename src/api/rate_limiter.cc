#include "api/rate_limiter.h"

#include <charconv>

namespace bluegate::api {

std::vector<RateRule> DefaultRateRules() {
  return {RateRule{"GET /api/v2/messages", 100, Millis(10'000)}};
}

std::optional<RateRule> ParseRateRule(std::string pattern, std::string_view limit) {
  RateRule rule;
  rule.pattern = std::move(pattern);
  if (limit == "0" || limit == "none") return rule;
  const size_t slash = limit.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  int n = 0;
  auto [ptr, ec] = std::from_chars(limit.data(), limit.data() + slash, n);
  if (ec != std::errc() || ptr != limit.data() + slash || n < 0) return std::nullopt;
  auto per = ParseDuration(limit.substr(slash + 1));
  if (!per || per->count() <= 0) return std::nullopt;
  rule.requests = n;
  rule.per = *per;
  return rule;
}

RateLimiter::RateLimiter(std::vector<RateRule> rules, Clock& clock) : clock_(clock) {
  versions_.push_back(std::make_unique<const Rules>(std::move(rules)));
  rules_.store(versions_.back().get());
}

bool RateLimiter::Covers(const RateRule& rule, std::string_view method, std::string_view path) {
  std::string_view p = rule.pattern;
  const size_t space = p.find(' ');
  if (space == std::string_view::npos) return false;
  const std::string_view m = p.substr(0, space);
  std::string_view want = p.substr(space + 1);
  if (m != "*" && m != method) return false;
  if (want.ends_with('*')) return path.starts_with(want.substr(0, want.size() - 1));
  return path == want;
}

void RateLimiter::Replace(std::vector<RateRule> rules) {
  std::lock_guard lock(mu_);
  const Rules& old = *rules_.load();
  auto same = [](const RateRule& a, const RateRule& b) {
    return a.pattern == b.pattern && a.requests == b.requests && a.per == b.per;
  };
  std::map<std::pair<int64_t, size_t>, TokenBucket> kept;
  for (auto& [key, bucket] : buckets_) {
    for (size_t j = 0; j < rules.size(); ++j) {
      if (same(old[key.second], rules[j])) kept.emplace(std::pair{key.first, j}, bucket);
    }
  }
  buckets_ = std::move(kept);
  versions_.push_back(std::make_unique<const Rules>(std::move(rules)));
  rules_.store(versions_.back().get());
}

Result<Ok> RateLimiter::Take(int64_t account_id, std::string_view method, std::string_view path) {
  const Rules* rules = rules_.load(std::memory_order_acquire);
  for (size_t i = 0; i < rules->size(); ++i) {
    const RateRule& rule = (*rules)[i];
    if (rule.requests <= 0 || !Covers(rule, method, path)) continue;
    const TimePoint now = clock_.Now();
    std::unique_lock lock(mu_);
    if (rules_.load() != rules) {
      // Replaced since this request read the rules: the buckets are the new list's. Start over
      // (a rule before this one may be charged twice, once, during a reload).
      lock.unlock();
      return Take(account_id, method, path);
    }
    auto it = buckets_.find({account_id, i});
    if (it == buckets_.end()) {
      const double rate = rule.requests / std::chrono::duration<double>(rule.per).count();
      it = buckets_.emplace(std::pair{account_id, i}, TokenBucket(rate, rule.requests)).first;
    }
    if (it->second.TryTake(now)) continue;
    const Millis wait = std::chrono::duration_cast<Millis>(it->second.NextAvailable(now) - now);
    const int64_t ms = rule.per.count();
    const std::string per =
        ms % 1000 == 0 ? std::to_string(ms / 1000) + " s" : std::to_string(ms) + " ms";
    return Error{ErrorKind::kThrottled,
                 "Rate limit exceeded: " + rule.pattern + " allows " +
                     std::to_string(rule.requests) + " requests per " + per +
                     " per account; retry later",
                 ErrorCode::kLineRateWindowExceeded, std::max(wait, Millis(1))};
  }
  return Ok{};
}

}  // namespace bluegate::api
