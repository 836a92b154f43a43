// API key authentication (SPEC.md §1): `sb-api-key-id` and `sb-api-secret-key`. A secret bluegate
// generated is stored as HMAC-SHA256(salt, secret); one an operator chose (`--secret`) as
// scrypt(secret, salt), slow to guess offline. Hashes are compared in constant time; the secret
// that last matched is cached, so a request costs one comparison, and a key created by an admin
// command is found on its first use.
#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <unordered_map>

#include "api/http_types.h"
#include "core/clock.h"
#include "core/result.h"
#include "store/accounts.h"

namespace bluegate::api {

struct Principal {
  store::Account account;
  std::string key_id;
  // The secret matched, but the key is revoked or its account disabled: the request is refused
  // with this message (401), and is not counted as a guess by the failed-authentication throttle.
  std::string refused = {};
};

class Authenticator {
 public:
  // A cached key is read again from the store once `recheck` has passed since it was last read,
  // so a key revoked or an account disabled by an admin command is refused within that time.
  static constexpr Millis kRecheck{500};

  Authenticator(store::Accounts& accounts, Clock& clock, Millis recheck = kRecheck)
      : store_(accounts), clock_(clock), recheck_(recheck) {}
  // kUnauthenticated with a message that says what is missing or wrong; a principal whose
  // `refused` is set when the credentials are right but no longer allowed. Thread-safe.
  Result<Principal> Authenticate(const HttpRequest& req);

  // Whether the key still authenticates as the store has it now (not revoked, its account not
  // disabled): open event streams are checked with it. A store that cannot answer counts as
  // yes (a stream is not cut for a read that failed). Thread-safe.
  bool StillAllowed(std::string_view key_id);

  static std::string HashSecret(std::string_view salt, std::string_view secret);
  // "scrypt$N$r$p$<hex>" (N = 2^14, r = 8, p = 1: about 16 MiB and tens of milliseconds).
  static std::string HashChosenSecret(std::string_view salt, std::string_view secret);
  // Whether `secret` matches `stored` (either form), in constant time.
  static bool Matches(std::string_view salt, std::string_view stored, std::string_view secret);

 private:
  struct Entry {
    store::ApiKey key;
    store::Account account;
    // The secret that last matched the stored hash: later requests compare against it in
    // constant time instead of computing an HMAC each time.
    std::string verified_secret;
    TimePoint read_at{};  // when key and account were last read from the store
  };
  // The key and its account as the store has them now (kUnauthenticated for an unknown key).
  Result<Entry> Load(std::string_view key_id);
  store::Accounts& store_;
  Clock& clock_;
  const Millis recheck_;
  std::mutex mu_;
  std::unordered_map<std::string, Entry> cache_;
};

}  // namespace bluegate::api
