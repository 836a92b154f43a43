// libFuzzer target: bytes as a connection delivers them, read as the server reads a request: the
// head scan (http_framing.h), Beast's parser, the framing check, then the request id its answer
// will carry (request_id.h), which must always be safe to repeat, and the console's cookie. None
// may crash, hang or read out of bounds, whatever the bytes.
#include <utility>  // before Asio: Boost 1.74 with GCC 12 coroutines

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "api/console_sessions.h"
#include "api/http_framing.h"
#include "api/request_id.h"

namespace http = boost::beast::http;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto scan = bluegate::api::ScanRequestHead(input, 16 * 1024);
  // The scan as the server runs it, going on as pieces arrive, must decide as the one-shot scan.
  bluegate::api::HeadScan step;
  for (size_t n = 0; n < size && step.state == bluegate::api::HeadState::kIncomplete;) {
    n = std::min(size, n + 1 + (data[n] % 7));
    step = bluegate::api::ScanRequestHead(input.substr(0, n), 16 * 1024, std::move(step));
  }
  if (size > 0 && (step.state != scan.state ||
                   (scan.state == bluegate::api::HeadState::kComplete && step.end != scan.end))) {
    std::abort();
  }
  if (scan.state != bluegate::api::HeadState::kComplete) return 0;
  http::request_parser<http::string_body> parser;
  parser.header_limit(16 * 1024);
  parser.body_limit(1 << 20);
  parser.eager(true);
  boost::beast::error_code ec;
  size_t offset = 0;
  while (offset < size && !parser.is_done()) {
    const size_t used = parser.put(boost::asio::buffer(data + offset, size - offset), ec);
    if (ec || used == 0) break;
    offset += used;
  }
  if (!parser.is_header_done()) return 0;
  const auto& head = parser.get();
  std::vector<std::string_view> codings;
  for (const auto& field : head) {
    if (field.name() == http::field::transfer_encoding) {
      codings.emplace_back(field.value().data(), field.value().size());
    }
  }
  (void)bluegate::api::CheckFraming(head.version(), codings,
                                    head.find(http::field::content_length) != head.end());
  if (auto it = head.find("x-request-id"); it != head.end()) {
    const std::string_view given(it->value().data(), it->value().size());
    const std::string id = bluegate::api::RequestIdFor(given);
    if (!bluegate::api::IsSafeRequestId(id)) std::abort();
    if (bluegate::api::IsSafeRequestId(given) != (id == given)) std::abort();
  }
  // The console's session cookie, as Api::AdoptSession reads it: never more than the header.
  if (auto it = head.find(http::field::cookie); it != head.end()) {
    const std::string_view cookies(it->value().data(), it->value().size());
    if (bluegate::api::CookieValue(cookies, "bluegate_session").size() > cookies.size())
      std::abort();
  }
  return 0;
}
