// How log lines are written: as text (spdlog's pattern), or as one JSON object per line for a log
// shipper ({"time","level","message"}, and for a request line "request_id", "method", "route",
// "status", "duration_ms", "account"). Every string is JSON-escaped, so no logged text can forge
// a field or a line.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace bluegate {

enum class LogFormat { kText, kJson };

// Sets the default logger's format (spdlog). Call once at start, before threads log.
void UseLogFormat(LogFormat format);

// One served request, as the access log writes it.
struct RequestLogLine {
  std::string_view request_id;  // the answer's x-request-id (a safe token: api/request_id.h)
  std::string_view method;
  std::string_view route;  // the route's pattern, never the raw path
  int status = 0;
  double duration_ms = 0;
  int64_t account_id = 0;  // 0: none (unauthenticated, or no account route)
};

// Logs `line` at info: as text "request ID METHOD ROUTE STATUS 1.2 ms account N", or with each
// field its own in JSON.
void LogRequest(const RequestLogLine& line);

// `s` as a JSON string's contents (quotes, backslashes and control characters escaped).
void AppendJsonEscaped(std::string& out, std::string_view s);

}  // namespace bluegate
