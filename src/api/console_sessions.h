// Signed-in console sessions (issue #17): a random session id in an HttpOnly cookie stands for
// the API key it was opened with, so that the console's pages call the same API as any client.
// Each session carries a CSRF token the page sends back with every change. Sessions end on
// sign-out, after `ttl` without use, or `max_age` after sign-in; at most `max_sessions` exist
// (signing in past it ends the least recently used). Held in memory: a restart signs everyone
// out. Thread-safe; time comes from the injected clock.
#pragma once

#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "core/clock.h"
#include "core/ids.h"

namespace bluegate::api {

struct ConsoleSessionSettings {
  Millis idle_ttl{std::chrono::hours(2)};  // [console] session_idle_timeout
  Millis max_age{std::chrono::hours(12)};  // [console] session_max_age
  size_t max_sessions = 10'000;            // [console] max_sessions
};

struct ConsoleSession {
  std::string id;    // the cookie's value (64 hex characters)
  std::string csrf;  // what the page sends as x-csrf-token (64 hex characters)
  std::string key_id;
  std::string secret;  // the key's secret, held only here: each request is authenticated anew
  bool operator_view = false;  // signed in with [console] operator_token: no account, all lines
};

class ConsoleSessions {
 public:
  ConsoleSessions(ConsoleSessionSettings settings, Clock& clock, IdGenerator& ids)
      : settings_(settings), clock_(clock), ids_(ids) {}

  // A new session for credentials the caller has checked (an operator's: no key).
  ConsoleSession Open(std::string key_id, std::string secret, bool operator_view = false);
  // The live session with this id (its idle time starts again), or nullopt.
  std::optional<ConsoleSession> Find(const std::string& id);
  void Close(const std::string& id);
  size_t size() const;

  // Whether `given` is the session's CSRF token (constant time).
  static bool CsrfMatches(const ConsoleSession& s, std::string_view given);

 private:
  struct Entry {
    ConsoleSession session;
    TimePoint opened;
    TimePoint used;
    std::list<std::string>::iterator lru;
  };
  bool Expired(const Entry& e, TimePoint now) const;

  const ConsoleSessionSettings settings_;
  Clock& clock_;
  IdGenerator& ids_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Entry> sessions_;
  std::list<std::string> lru_;  // most recently used first
};

// The value of cookie `name` in a Cookie header ("a=1; b=2"), or "".
std::string CookieValue(std::string_view header, std::string_view name);

}  // namespace bluegate::api
