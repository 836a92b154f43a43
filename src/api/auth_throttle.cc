#include "api/auth_throttle.h"

namespace bluegate::api {

std::string AuthThrottle::Key(std::string_view address, std::string_view key_id) {
  std::string key(address);
  key += '\n';  // neither an address nor a header value holds a newline
  key += key_id.substr(0, 128);
  return key;
}

void AuthThrottle::DropExpired(TimePoint now) {
  std::erase_if(windows_, [now](const auto& kv) { return now - kv.second.start >= kWindow; });
}

std::optional<Millis> AuthThrottle::Blocked(std::string_view address, std::string_view key_id) {
  const TimePoint now = clock_.Now();
  std::lock_guard lock(mu_);
  auto it = windows_.find(Key(address, key_id));
  if (it == windows_.end()) return std::nullopt;
  const Millis elapsed = std::chrono::duration_cast<Millis>(now - it->second.start);
  if (elapsed >= kWindow) {
    windows_.erase(it);
    return std::nullopt;
  }
  if (it->second.failures < max_failures_) return std::nullopt;
  return kWindow - elapsed;
}

void AuthThrottle::Failed(std::string_view address, std::string_view key_id) {
  const TimePoint now = clock_.Now();
  std::lock_guard lock(mu_);
  std::string key = Key(address, key_id);
  auto it = windows_.find(key);
  if (it != windows_.end() && now - it->second.start >= kWindow) {
    windows_.erase(it);
    it = windows_.end();
  }
  if (it == windows_.end()) {
    if (windows_.size() >= max_tracked_) DropExpired(now);
    if (windows_.size() >= max_tracked_) return;  // full of live pairs: remember no more
    it = windows_.emplace(std::move(key), Window{now, 0}).first;
  }
  ++it->second.failures;
}

}  // namespace bluegate::api
