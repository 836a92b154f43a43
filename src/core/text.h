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

// True when `text` is valid UTF-8 (no overlong forms, no surrogates, at most U+10FFFF).
bool IsValidUtf8(std::string_view text);

}  // namespace bluegate
