// The strict reading of HTTP/1.1 framing that bluegate adds to Beast's parser (RFC 9112), as pure
// functions so that they are unit-tested and fuzzed without a socket:
// - the request head is scanned before Beast sees it: bare CR or LF, control characters and
//   obs-fold (a header line that starts with white space) are refused;
// - after Beast parsed the head, the message's framing is checked: Transfer-Encoding only in
//   HTTP/1.1, never with Content-Length, and `chunked` as its one and final coding.
// A proxy in front of bluegate that reads a request differently cannot then smuggle a second
// request inside the first.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bluegate::api {

enum class HeadState { kIncomplete, kComplete, kMalformed, kTooLarge };

struct HeadScan {
  HeadState state = HeadState::kIncomplete;
  size_t end = 0;      // kComplete: bytes up to and including the blank line
  std::string reason;  // kMalformed: what was wrong
  // kIncomplete: where the scan stopped, so that the next call on the same bytes grown longer
  // goes on from there (a client sending a byte at a time costs linear, not quadratic, work).
  size_t resume = 0;
  bool line_start = true;
  bool request_line = true;
};

// Scans the start of `bytes` (a connection's unread input) for one request head, going on from
// `from` (the previous kIncomplete result for a prefix of these bytes, or a fresh HeadScan).
// Empty lines before the request line are skipped, as RFC 9112 §2.2 allows.
HeadScan ScanRequestHead(std::string_view bytes, size_t max_head_bytes, HeadScan from = {});

struct FramingError {
  int status = 400;  // 400, or 501 for a transfer coding bluegate does not implement
  std::string message;
};

// `transfer_encodings`: the values of every Transfer-Encoding field, in order.
std::optional<FramingError> CheckFraming(unsigned version,
                                         const std::vector<std::string_view>& transfer_encodings,
                                         bool has_content_length);

}  // namespace bluegate::api
