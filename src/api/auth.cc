#include "api/auth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <charconv>
#include <optional>

namespace bluegate::api {
namespace {

Error Unauthenticated(std::string msg) {
  return Error{ErrorKind::kUnauthenticated, std::move(msg), std::nullopt, {}};
}

constexpr std::string_view kScrypt = "scrypt$";

std::string Hex(const unsigned char* data, size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    out.push_back(kHex[data[i] >> 4]);
    out.push_back(kHex[data[i] & 15]);
  }
  return out;
}

// scrypt with the given parameters as hex, or "" when OpenSSL refuses them.
std::string Scrypt(std::string_view salt, std::string_view secret, uint64_t n, uint64_t r,
                   uint64_t p) {
  unsigned char out[32];
  if (EVP_PBE_scrypt(secret.data(), secret.size(),
                     reinterpret_cast<const unsigned char*>(salt.data()), salt.size(), n, r, p,
                     64ull << 20, out, sizeof out) != 1) {
    return "";
  }
  return Hex(out, sizeof out);
}

}  // namespace

std::string Authenticator::HashChosenSecret(std::string_view salt, std::string_view secret) {
  constexpr uint64_t kN = 1 << 14, kR = 8, kP = 1;
  return std::string(kScrypt) + std::to_string(kN) + "$" + std::to_string(kR) + "$" +
         std::to_string(kP) + "$" + Scrypt(salt, secret, kN, kR, kP);
}

bool Authenticator::Matches(std::string_view salt, std::string_view stored,
                            std::string_view secret) {
  std::string computed;
  if (stored.starts_with(kScrypt)) {
    // scrypt$N$r$p$hex
    uint64_t params[3] = {0, 0, 0};
    std::string_view rest = stored.substr(kScrypt.size());
    for (auto& v : params) {
      const size_t dollar = rest.find('$');
      if (dollar == std::string_view::npos) return false;
      auto [ptr, ec] = std::from_chars(rest.data(), rest.data() + dollar, v);
      if (ec != std::errc() || ptr != rest.data() + dollar) return false;
      rest.remove_prefix(dollar + 1);
    }
    // Parameters as stored, within what this process accepts to compute.
    if (params[0] < 2 || params[0] > (1u << 20) || params[1] > 32 || params[2] > 4) return false;
    computed = Scrypt(salt, secret, params[0], params[1], params[2]);
    stored = rest;
  } else {
    computed = HashSecret(salt, secret);
  }
  return !computed.empty() && computed.size() == stored.size() &&
         CRYPTO_memcmp(computed.data(), stored.data(), stored.size()) == 0;
}

std::string Authenticator::HashSecret(std::string_view salt, std::string_view secret) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), salt.data(), static_cast<int>(salt.size()),
       reinterpret_cast<const unsigned char*>(secret.data()), secret.size(), mac, &len);
  return Hex(mac, len);
}

Result<Authenticator::Entry> Authenticator::Load(std::string_view key_id) {
  auto key = store_.FindApiKey(key_id);
  if (!key.ok()) {
    if (key.error().kind == ErrorKind::kStorageFailure) return key.error();
    return Unauthenticated(
        "Invalid API credentials: unknown sb-api-key-id or wrong sb-api-secret-key");
  }
  auto account = store_.FindAccount(key->account_id);
  if (!account.ok()) return account.error();
  return Entry{std::move(key).value(), std::move(account).value(), {}, clock_.Now()};
}

bool Authenticator::StillAllowed(std::string_view key_id) {
  auto key = store_.FindApiKey(key_id);
  if (!key.ok()) return key.error().kind == ErrorKind::kStorageFailure;
  if (key->revoked()) return false;
  auto account = store_.FindAccount(key->account_id);
  if (!account.ok()) return account.error().kind == ErrorKind::kStorageFailure;
  return !account->disabled();
}

Result<Principal> Authenticator::Authenticate(const HttpRequest& req) {
  const auto key_id = req.Header("sb-api-key-id");
  const auto secret = req.Header("sb-api-secret-key");
  if (!key_id || key_id->empty() || !secret || secret->empty()) {
    return Unauthenticated(
        "Missing API credentials: send the sb-api-key-id and sb-api-secret-key headers");
  }
  const TimePoint now = clock_.Now();
  std::optional<Entry> cached;
  {
    std::lock_guard lock(mu_);
    if (auto it = cache_.find(std::string(*key_id)); it != cache_.end()) cached = it->second;
  }
  Entry entry;
  bool changed = true;  // whether the cache needs this entry written back
  if (cached && now - cached->read_at < recheck_) {
    changed = false;
    entry = std::move(*cached);
  } else {
    auto loaded = Load(*key_id);
    if (!loaded.ok()) {
      std::lock_guard lock(mu_);
      cache_.erase(std::string(*key_id));
      return loaded.error();
    }
    entry = std::move(loaded).value();
    // The secret verified before still stands while the stored hash is the same.
    if (cached && cached->key.secret_hash == entry.key.secret_hash) {
      entry.verified_secret = std::move(cached->verified_secret);
    }
  }
  const bool known =
      !entry.verified_secret.empty() && entry.verified_secret.size() == secret->size() &&
      CRYPTO_memcmp(entry.verified_secret.data(), secret->data(), secret->size()) == 0;
  if (!known) {
    if (!Matches(entry.key.salt, entry.key.secret_hash, *secret)) {
      return Unauthenticated(
          "Invalid API credentials: unknown sb-api-key-id or wrong sb-api-secret-key");
    }
    entry.verified_secret = std::string(*secret);
    changed = true;
  }
  if (changed) {
    std::lock_guard lock(mu_);
    cache_.insert_or_assign(entry.key.key_id, entry);
  }
  // Said only to a caller that holds the secret.
  Principal p{entry.account, entry.key.key_id};
  if (entry.key.revoked()) {
    p.refused = "Invalid API credentials: this API key was revoked";
  } else if (entry.account.disabled()) {
    p.refused = "Invalid API credentials: this account is disabled";
  }
  return p;
}

}  // namespace bluegate::api
