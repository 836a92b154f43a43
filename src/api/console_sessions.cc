#include "api/console_sessions.h"

#include <openssl/crypto.h>

namespace bluegate::api {

ConsoleSession ConsoleSessions::Open(std::string key_id, std::string secret, bool operator_view) {
  ConsoleSession s{ids_.RandomHex(32), ids_.RandomHex(32), std::move(key_id), std::move(secret),
                   operator_view};
  const TimePoint now = clock_.Now();
  std::lock_guard lock(mu_);
  while (sessions_.size() >= settings_.max_sessions && !lru_.empty()) {
    sessions_.erase(lru_.back());
    lru_.pop_back();
  }
  lru_.push_front(s.id);
  sessions_.emplace(s.id, Entry{s, now, now, lru_.begin()});
  return s;
}

bool ConsoleSessions::Expired(const Entry& e, TimePoint now) const {
  return now - e.used >= settings_.idle_ttl || now - e.opened >= settings_.max_age;
}

std::optional<ConsoleSession> ConsoleSessions::Find(const std::string& id) {
  const TimePoint now = clock_.Now();
  std::lock_guard lock(mu_);
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return std::nullopt;
  if (Expired(it->second, now)) {
    lru_.erase(it->second.lru);
    sessions_.erase(it);
    return std::nullopt;
  }
  it->second.used = now;
  lru_.splice(lru_.begin(), lru_, it->second.lru);
  return it->second.session;
}

void ConsoleSessions::Close(const std::string& id) {
  std::lock_guard lock(mu_);
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return;
  lru_.erase(it->second.lru);
  sessions_.erase(it);
}

size_t ConsoleSessions::size() const {
  std::lock_guard lock(mu_);
  return sessions_.size();
}

bool ConsoleSessions::CsrfMatches(const ConsoleSession& s, std::string_view given) {
  return given.size() == s.csrf.size() && !s.csrf.empty() &&
         CRYPTO_memcmp(given.data(), s.csrf.data(), given.size()) == 0;
}

std::string CookieValue(std::string_view header, std::string_view name) {
  size_t pos = 0;
  while (pos < header.size()) {
    size_t end = header.find(';', pos);
    if (end == std::string_view::npos) end = header.size();
    std::string_view part = header.substr(pos, end - pos);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    if (part.size() > name.size() && part.starts_with(name) && part[name.size()] == '=') {
      return std::string(part.substr(name.size() + 1));
    }
    pos = end + 1;
  }
  return "";
}

}  // namespace bluegate::api
