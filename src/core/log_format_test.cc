#include "core/log_format.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <sstream>
#include <vector>

namespace bluegate {
namespace {

// Routes the default logger to a string for the test's length, in `format`.
class CapturedLog {
 public:
  explicit CapturedLog(LogFormat format) : previous_(spdlog::default_logger()) {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out_);
    spdlog::set_default_logger(std::make_shared<spdlog::logger>("test", sink));
    UseLogFormat(format);
  }
  ~CapturedLog() {
    spdlog::set_default_logger(previous_);
    UseLogFormat(LogFormat::kText);
  }
  std::vector<std::string> Lines() const {
    std::vector<std::string> lines;
    std::istringstream in(out_.str());
    for (std::string l; std::getline(in, l);) lines.push_back(l);
    return lines;
  }

 private:
  std::ostringstream out_;
  std::shared_ptr<spdlog::logger> previous_;
};

TEST(LogFormatTest, JsonLinesAreOneObjectEachWithTheTextEscaped) {
  CapturedLog log(LogFormat::kJson);
  spdlog::warn("a \"quoted\" line\nwith a forged {}", R"(","level":"error)");
  const auto lines = log.Lines();
  ASSERT_EQ(lines.size(), 1u) << "a newline in the text does not start a line";
  rapidjson::Document d;
  ASSERT_FALSE(d.Parse(lines[0].c_str()).HasParseError()) << lines[0];
  EXPECT_STREQ(d["level"].GetString(), "warning");
  EXPECT_STREQ(d["message"].GetString(), "a \"quoted\" line\nwith a forged \",\"level\":\"error");
  EXPECT_EQ(std::string(d["time"].GetString()).size(), 24u) << "2026-12-07T06:30:27.193Z";
  EXPECT_FALSE(d.HasMember("route")) << "request fields only on request lines";
}

TEST(LogFormatTest, ARequestLineCarriesItsFields) {
  CapturedLog log(LogFormat::kJson);
  LogRequest(RequestLogLine{"7ee315ac00000001", "POST", "/api/send-message", 200, 1.25, 42});
  LogRequest(RequestLogLine{"7ee315ac00000002", "GET", "unauthenticated", 401, 0.5, 0});
  const auto lines = log.Lines();
  ASSERT_EQ(lines.size(), 2u);
  rapidjson::Document d;
  ASSERT_FALSE(d.Parse(lines[0].c_str()).HasParseError()) << lines[0];
  EXPECT_STREQ(d["request_id"].GetString(), "7ee315ac00000001");
  EXPECT_STREQ(d["method"].GetString(), "POST");
  EXPECT_STREQ(d["route"].GetString(), "/api/send-message");
  EXPECT_EQ(d["status"].GetInt(), 200);
  EXPECT_DOUBLE_EQ(d["duration_ms"].GetDouble(), 1.25);
  EXPECT_EQ(d["account"].GetInt64(), 42);
  ASSERT_FALSE(d.Parse(lines[1].c_str()).HasParseError()) << lines[1];
  EXPECT_FALSE(d.HasMember("account")) << "no account before authentication";
  EXPECT_EQ(d["status"].GetInt(), 401);
}

TEST(LogFormatTest, TextRequestLinesReadAsASentence) {
  CapturedLog log(LogFormat::kText);
  LogRequest(RequestLogLine{"7ee315ac00000001", "POST", "/api/send-message", 200, 1.25, 42});
  const auto lines = log.Lines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("[info] request 7ee315ac00000001 POST /api/send-message 200 1.2 ms "
                          "account 42"),
            std::string::npos)
      << lines[0];
}

TEST(LogFormatTest, ControlCharactersAreEscaped) {
  std::string out;
  AppendJsonEscaped(out, std::string("a\x01\x7f\tb\\", 6));
  EXPECT_EQ(out, "a\\u0001\\u007f\\tb\\\\");
}

}  // namespace
}  // namespace bluegate
