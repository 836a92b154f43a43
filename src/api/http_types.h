// The HTTP request and response as the handlers see them: plain values, so that only
// http_server.cc includes Beast.
#pragma once

#include <memory>

#include "core/event_hub.h"

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bluegate::api {

struct HttpRequest {
  std::string method;                                        // "GET", "POST", ...
  std::string path;                                          // percent-decoded, '+' kept as '+'
  std::string query;                                         // raw, without '?'
  std::vector<std::pair<std::string, std::string>> headers;  // names lowercased
  std::string body;
  std::string remote_address;  // the client's IP address ("127.0.0.1", "::1")
  std::string request_id;      // its answer's x-request-id (api/request_id.h)
  bool tls = false;            // it came over HTTPS (the console's cookie is then Secure)

  // The first header of that (lowercase) name.
  std::optional<std::string_view> Header(std::string_view name) const {
    for (const auto& [k, v] : headers) {
      if (k == name) return v;
    }
    return std::nullopt;
  }
};

struct HttpResponse {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string route = "unmatched";  // the route pattern, for metrics and the access log
  int64_t account_id = 0;           // the account it answered, for the access log (0: none)
  // A file to send as the body instead of `body`, read from disk in chunks as the client takes
  // them (memory does not grow with the file's size or with clients that read slowly).
  std::string file_path;
  // A server-sent event stream instead of a body: the server writes the headers, then calls
  // `open_events` with a function that wakes the connection, and writes the subscription's
  // frames as they come (a comment line every 15 s keeps idle proxies open) until the client
  // goes; then it calls `close_events`.
  std::function<std::shared_ptr<EventSubscription>(std::function<void()> wake)> open_events;
  std::function<void(const std::shared_ptr<EventSubscription>&)> close_events;
};

// Called exactly once per request, from any thread.
using Responder = std::function<void(HttpResponse)>;
using Handler = std::function<void(HttpRequest, Responder)>;

}  // namespace bluegate::api
