#include "api/http_framing.h"

#include <cctype>

namespace bluegate::api {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

}  // namespace

HeadScan ScanRequestHead(std::string_view bytes, size_t max_head_bytes, HeadScan from) {
  HeadScan out = std::move(from);
  size_t i = out.resume;
  auto incomplete = [&out, &i, &bytes, max_head_bytes]() {
    out.state = bytes.size() > max_head_bytes ? HeadState::kTooLarge : HeadState::kIncomplete;
    out.resume = i;
    return out;
  };
  auto malformed = [&out](const char* why) {
    out.state = HeadState::kMalformed;
    out.reason = why;
    return out;
  };
  while (i < bytes.size()) {
    if (i >= max_head_bytes) {
      out.state = HeadState::kTooLarge;
      return out;
    }
    const auto c = static_cast<unsigned char>(bytes[i]);
    if (out.line_start && !out.request_line && (c == ' ' || c == '\t')) {
      return malformed("obsolete line folding (a header line starting with white space)");
    }
    if (c == '\r') {
      if (i + 1 == bytes.size()) return incomplete();  // the LF has not arrived yet
      if (bytes[i + 1] != '\n') return malformed("a CR not followed by LF");
      if (out.line_start && out.request_line) {
        i += 2;  // an empty line before the request line
        continue;
      }
      if (out.line_start) {  // the blank line that ends the head
        out.state = HeadState::kComplete;
        out.end = i + 2;
        return out;
      }
      i += 2;
      out.request_line = false;
      out.line_start = true;
      continue;
    }
    out.line_start = false;
    if (c == '\n') return malformed("a line ending in LF without CR");
    if ((c < 0x20 && c != '\t') || c == 0x7f) {
      return malformed("a control character in the request head");
    }
    ++i;
  }
  return incomplete();
}

std::optional<FramingError> CheckFraming(unsigned version,
                                         const std::vector<std::string_view>& transfer_encodings,
                                         bool has_content_length) {
  if (transfer_encodings.empty()) return std::nullopt;
  if (version < 11) {
    return FramingError{400, "Transfer-Encoding is not allowed in an HTTP/1.0 request"};
  }
  if (has_content_length) {
    return FramingError{400, "A request may not carry both Content-Length and Transfer-Encoding"};
  }
  std::vector<std::string_view> codings;
  for (std::string_view value : transfer_encodings) {
    while (true) {
      const size_t comma = value.find(',');
      std::string_view token = Trim(value.substr(0, comma));
      if (!token.empty()) codings.push_back(token);
      if (comma == std::string_view::npos) break;
      value.remove_prefix(comma + 1);
    }
  }
  if (codings.size() == 1 && IEquals(codings[0], "chunked")) return std::nullopt;
  if (codings.empty() || !IEquals(codings.back(), "chunked")) {
    return FramingError{400, "Transfer-Encoding must end in chunked"};
  }
  return FramingError{501, "Only the chunked transfer coding is accepted"};
}

}  // namespace bluegate::api
