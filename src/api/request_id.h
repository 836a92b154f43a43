// A request's id: repeated in its answer's x-request-id header, so that a client, a proxy and
// the server's logs can name the same request.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace bluegate::api {

// Whether a client's id is safe to repeat in a header and a log line: 1 to 128 characters of
// letters, digits and . _ : - (what proxies and tracing systems send: UUIDs, hex, "req-42").
bool IsSafeRequestId(std::string_view id);

// The client's id when it sent a safe one, else a new one: 16 hex digits, 8 random per process
// and then a counter.
std::string RequestIdFor(std::optional<std::string_view> given);

}  // namespace bluegate::api
