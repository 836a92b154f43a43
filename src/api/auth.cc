#include "api/auth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace bluegate::api {
namespace {

Error Unauthenticated(std::string msg) {
  return Error{ErrorKind::kUnauthenticated, std::move(msg), std::nullopt, {}};
}

}  // namespace

std::string Authenticator::HashSecret(std::string_view salt, std::string_view secret) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), salt.data(), static_cast<int>(salt.size()),
       reinterpret_cast<const unsigned char*>(secret.data()), secret.size(), mac, &len);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < len; ++i) {
    out.push_back(kHex[mac[i] >> 4]);
    out.push_back(kHex[mac[i] & 15]);
  }
  return out;
}

Result<Principal> Authenticator::Authenticate(const HttpRequest& req) {
  const auto key_id = req.Header("sb-api-key-id");
  const auto secret = req.Header("sb-api-secret-key");
  if (!key_id || key_id->empty() || !secret || secret->empty()) {
    return Unauthenticated(
        "Missing API credentials: send the sb-api-key-id and sb-api-secret-key headers");
  }
  Entry entry;
  bool found = false;
  {
    std::lock_guard lock(mu_);
    if (auto it = cache_.find(std::string(*key_id)); it != cache_.end()) {
      entry = it->second;
      found = true;
    }
  }
  if (!found) {
    auto key = store_.FindApiKey(*key_id);
    if (!key.ok()) {
      if (key.error().kind == ErrorKind::kStorageFailure) return key.error();
      return Unauthenticated(
          "Invalid API credentials: unknown sb-api-key-id or wrong sb-api-secret-key");
    }
    auto account = store_.FindAccount(key->account_id);
    if (!account.ok()) return account.error();
    entry = Entry{std::move(key).value(), std::move(account).value(), {}};
  }
  const bool known =
      !entry.verified_secret.empty() && entry.verified_secret.size() == secret->size() &&
      CRYPTO_memcmp(entry.verified_secret.data(), secret->data(), secret->size()) == 0;
  if (!known) {
    const std::string hash = HashSecret(entry.key.salt, *secret);
    if (hash.size() != entry.key.secret_hash.size() ||
        CRYPTO_memcmp(hash.data(), entry.key.secret_hash.data(), hash.size()) != 0) {
      return Unauthenticated(
          "Invalid API credentials: unknown sb-api-key-id or wrong sb-api-secret-key");
    }
    entry.verified_secret = std::string(*secret);
    std::lock_guard lock(mu_);
    cache_.insert_or_assign(entry.key.key_id, entry);
  }
  return Principal{entry.account, entry.key.key_id};
}

}  // namespace bluegate::api
