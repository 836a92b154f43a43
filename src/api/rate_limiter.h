// Per-account API rate limits (SPEC.md §1, issue #4): a token bucket per (account, rule), where a
// rule names the requests it covers ("GET /api/v2/messages", or a prefix ending in '*').
// Thread-safe; requests that no rule covers cost one loop over the rules under a shared lock.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "core/token_bucket.h"

namespace bluegate::api {

struct RateRule {
  std::string pattern;  // "METHOD /path", or "METHOD /prefix*"; METHOD may be "*"
  int requests = 0;     // per `per`; <= 0: no limit
  Millis per{1000};
  bool operator==(const RateRule&) const = default;
};

// Sendblue's published default: GET /api/v2/messages, 100 requests per 10 seconds.
std::vector<RateRule> DefaultRateRules();

// "100/10s" → 100 per 10 s; "0" or "none" → no limit. Nullopt when malformed.
std::optional<RateRule> ParseRateRule(std::string pattern, std::string_view limit);

class RateLimiter {
 public:
  RateLimiter(std::vector<RateRule> rules, Clock& clock);

  // Takes a token for this request from the account's bucket of every rule that covers it;
  // kThrottled (4001, retry_after: when a token is back) when one is empty.
  Result<Ok> Take(int64_t account_id, std::string_view method, std::string_view path);

  // New rules from now on (SIGHUP). An account's bucket for a rule that is unchanged (pattern,
  // requests, period) carries over; the others start full.
  void Replace(std::vector<RateRule> rules);

 private:
  static bool Covers(const RateRule& rule, std::string_view method, std::string_view path);

  std::vector<RateRule> rules_;  // under rules_mu_ (Take reads it under a shared lock)
  Clock& clock_;
  std::shared_mutex rules_mu_;
  std::mutex mu_;
  std::map<std::pair<int64_t, size_t>, TokenBucket> buckets_;  // (account, rule index)
};

}  // namespace bluegate::api
