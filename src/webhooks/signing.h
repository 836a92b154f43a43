// Webhook signatures (SPEC.md §5): Sendblue's `sb-signing-secret` header and the Standard Webhooks
// headers. docs/webhooks.md shows a receiver how to verify them.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bluegate::webhooks {

// "v1," + base64(HMAC-SHA256(secret, id + "." + timestamp + "." + body)). A secret of the form
// "whsec_<base64>" is used as the decoded bytes, as Standard Webhooks libraries expect; any other
// secret is used as its UTF-8 bytes.
std::string StandardSignature(std::string_view secret, std::string_view id, int64_t timestamp,
                              std::string_view body);

// The headers of one delivery: webhook-id / webhook-timestamp always; sb-signing-secret and
// webhook-signature when `secret` is not empty.
std::vector<std::pair<std::string, std::string>> DeliveryHeaders(std::string_view secret,
                                                                 std::string_view id,
                                                                 int64_t timestamp,
                                                                 std::string_view body);

std::string Base64(std::string_view bytes);
std::string Base64Decode(std::string_view text);  // empty on malformed input

}  // namespace bluegate::webhooks
