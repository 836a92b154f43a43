// The small piece of URL parsing the gateway needs: http(s) URLs given by clients (media_url,
// status_callback, webhook targets).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace bluegate {

struct HttpUrl {
  bool tls = false;
  std::string host;  // without brackets for IPv6 literals
  uint16_t port = 80;
  std::string target;  // path and query, at least "/"
  std::string path;    // path only

  std::string HostPort() const;  // "example.com:8080" (brackets around IPv6)
};

// nullopt unless `text` is an absolute http:// or https:// URL with a host.
std::optional<HttpUrl> ParseHttpUrl(std::string_view text);

// True when the URL's path ends in a file extension (".jpg", ".caf"): what Sendblue asks of
// media_url so the receiving device knows the type.
bool HasFileExtension(const HttpUrl& url);

// application/x-www-form-urlencoded and query-string decoding. With `plus_is_space`, '+' becomes
// ' ' (query strings); paths keep '+'.
std::string PercentDecode(std::string_view text, bool plus_is_space);

}  // namespace bluegate
