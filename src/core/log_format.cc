#include "core/log_format.h"

#include <fmt/format.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <memory>

namespace bluegate {
namespace {

// The request a line is about while LogRequest logs it (this thread only).
thread_local const RequestLogLine* current_request = nullptr;

class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    std::string out;
    out.reserve(160 + msg.payload.size());
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(msg.time.time_since_epoch());
    const std::time_t secs = static_cast<std::time_t>(ms.count() / 1000);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    out += fmt::format(R"({{"time":"{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z","level":")",
                       tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                       tm.tm_sec, ms.count() % 1000);
    const auto level = spdlog::level::to_string_view(msg.level);
    out.append(level.data(), level.size());
    out += R"(","message":")";
    AppendJsonEscaped(out, std::string_view(msg.payload.data(), msg.payload.size()));
    out += '"';
    if (const RequestLogLine* r = current_request) {
      out += R"(,"request_id":")";
      AppendJsonEscaped(out, r->request_id);
      out += R"(","method":")";
      AppendJsonEscaped(out, r->method);
      out += R"(","route":")";
      AppendJsonEscaped(out, r->route);
      out += fmt::format(R"(","status":{},"duration_ms":{:.3f})", r->status, r->duration_ms);
      if (r->account_id != 0) out += fmt::format(R"(,"account":{})", r->account_id);
    }
    out += "}\n";
    dest.append(out.data(), out.data() + out.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonFormatter>();
  }
};

}  // namespace

void AppendJsonEscaped(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 15];
        } else {
          out += ch;  // UTF-8 passes through; a shipper reads bytes it cannot decode as such
        }
    }
  }
}

void UseLogFormat(LogFormat format) {
  if (format == LogFormat::kJson) {
    spdlog::set_formatter(std::make_unique<JsonFormatter>());
  } else {
    spdlog::set_formatter(std::make_unique<spdlog::pattern_formatter>());
  }
}

void LogRequest(const RequestLogLine& line) {
  current_request = &line;
  if (line.account_id != 0) {
    spdlog::info("request {} {} {} {} {:.1f} ms account {}", line.request_id, line.method,
                 line.route, line.status, line.duration_ms, line.account_id);
  } else {
    spdlog::info("request {} {} {} {} {:.1f} ms", line.request_id, line.method, line.route,
                 line.status, line.duration_ms);
  }
  current_request = nullptr;
}

}  // namespace bluegate
