// Checks for user text that may travel on to a header, a URL or a log line.
#pragma once

#include <string>
#include <string_view>

namespace bluegate {

// True when `value` may be sent as an HTTP header value: no CR, LF, NUL or other control
// character but horizontal tab (RFC 9110 §5.5), so it cannot end its header or start another.
bool IsHeaderSafe(std::string_view value);

// `text` for a log line: control characters (CR and LF included) and bytes that are not UTF-8
// become \xNN escapes, and it is cut at `max` bytes, so that a client cannot forge log lines.
std::string ForLog(std::string_view text, size_t max = 200);

// The UTF-8 character that starts at s[i] (i < s.size()). A malformed one reads as U+FFFD, and
// its length covers the lead byte and the continuation bytes that belonged to it.
struct Utf8Char {
  char32_t code = 0;
  size_t length = 1;
  bool valid = false;
};
Utf8Char DecodeUtf8At(std::string_view s, size_t i);

// True when `text` is valid UTF-8 (no overlong forms, no surrogates, at most U+10FFFF).
bool IsValidUtf8(std::string_view text);

}  // namespace bluegate
