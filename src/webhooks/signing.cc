#include "webhooks/signing.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace bluegate::webhooks {

std::string Base64(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()),
                                static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

std::string Base64Decode(std::string_view text) {
  if (text.size() % 4 != 0) return {};
  std::string out(3 * text.size() / 4 + 1, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  if (n < 0) return {};
  size_t len = static_cast<size_t>(n);
  if (text.ends_with("=="))
    len -= 2;
  else if (text.ends_with("="))
    len -= 1;
  out.resize(len);
  return out;
}

std::string StandardSignature(std::string_view secret, std::string_view id, int64_t timestamp,
                              std::string_view body) {
  std::string key =
      secret.starts_with("whsec_") ? Base64Decode(secret.substr(6)) : std::string(secret);
  std::string signed_content;
  signed_content.reserve(id.size() + body.size() + 24);
  signed_content.append(id).append(".").append(std::to_string(timestamp)).append(".").append(body);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(signed_content.data()), signed_content.size(), mac,
       &mac_len);
  return "v1," + Base64(std::string_view(reinterpret_cast<const char*>(mac), mac_len));
}

std::vector<std::pair<std::string, std::string>> DeliveryHeaders(std::string_view secret,
                                                                 std::string_view id,
                                                                 int64_t timestamp,
                                                                 std::string_view body) {
  std::vector<std::pair<std::string, std::string>> h;
  h.emplace_back("webhook-id", std::string(id));
  h.emplace_back("webhook-timestamp", std::to_string(timestamp));
  if (!secret.empty()) {
    h.emplace_back("sb-signing-secret", std::string(secret));
    h.emplace_back("webhook-signature", StandardSignature(secret, id, timestamp, body));
  }
  return h;
}

}  // namespace bluegate::webhooks
