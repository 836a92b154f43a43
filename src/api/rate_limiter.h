// Per-account API rate limits (SPEC.md §1, issue #4): a token bucket per (account, rule), where a
// rule names the requests it covers ("GET /api/v2/messages", or a prefix ending in '*').
// Thread-safe; requests that no rule covers cost one loop over the rules and take no lock.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
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

  using Rules = std::vector<RateRule>;
  // The rules in force, read without a lock. Replace swaps in another list; the lists it
  // replaced stay in `versions_` (a few hundred bytes per SIGHUP) so that a Take still reading
  // one never reads freed memory.
  std::atomic<const Rules*> rules_;
  Clock& clock_;
  std::mutex mu_;  // buckets_ and versions_
  std::vector<std::unique_ptr<const Rules>> versions_;
  std::map<std::pair<int64_t, size_t>, TokenBucket> buckets_;  // (account, rule index)
};

}  // namespace bluegate::api
