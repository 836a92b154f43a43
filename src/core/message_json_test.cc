#include "core/message_json.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

namespace bluegate {
namespace {

TEST(MessageJsonTest, EveryKeyOfTheSpecIsPresentWithItsEmptyForm) {
  Message m;
  m.handle = "h";
  m.account_email = "a@b.c";
  m.line_number = "+12125550199";
  m.contact = "+14155550100";
  m.status = Status::kQueued;
  rapidjson::Document d;
  d.Parse(RenderMessageJson(m).c_str());
  ASSERT_TRUE(d.IsObject());
  for (const char* k : {"accountEmail",
                        "content",
                        "is_outbound",
                        "status",
                        "error_code",
                        "error_message",
                        "error_reason",
                        "error_detail",
                        "message_handle",
                        "date_sent",
                        "date_updated",
                        "from_number",
                        "number",
                        "to_number",
                        "was_downgraded",
                        "plan",
                        "media_url",
                        "message_type",
                        "group_id",
                        "participants",
                        "send_style",
                        "opted_out",
                        "sendblue_number",
                        "service",
                        "group_display_name"}) {
    EXPECT_TRUE(d.HasMember(k)) << k;
  }
  EXPECT_STREQ(d["media_url"].GetString(), "");
  EXPECT_TRUE(d["error_code"].IsNull());
  EXPECT_TRUE(d["was_downgraded"].IsNull());
  EXPECT_STREQ(d["from_number"].GetString(), "+12125550199");
  EXPECT_STREQ(d["to_number"].GetString(), "+14155550100");
  EXPECT_STREQ(d["number"].GetString(), "+14155550100");
  EXPECT_STREQ(d["date_sent"].GetString(), "1970-01-01T00:00:00.000Z");
}

TEST(MessageJsonTest, InboundSwapsFromAndToAndNumberIsTheContact) {
  Message m;
  m.is_outbound = false;
  m.line_number = "+12125550199";
  m.contact = "+14155550100";
  rapidjson::Document d;
  d.Parse(RenderMessageJson(m).c_str());
  EXPECT_STREQ(d["from_number"].GetString(), "+14155550100");
  EXPECT_STREQ(d["to_number"].GetString(), "+12125550199");
  EXPECT_STREQ(d["number"].GetString(), "+14155550100");
}

TEST(MessageJsonTest, ErrorCodesAreIntegersExceptTheSmsLimit) {
  Message m;
  m.error.emplace();
  m.error->code = ErrorCode::kFailedToResolve;
  m.error->message = "late";
  m.error->reason = "resolve_timeout";
  rapidjson::Document d;
  d.Parse(RenderMessageJson(m).c_str());
  EXPECT_EQ(d["error_code"].GetInt(), 10002);
  EXPECT_STREQ(d["error_reason"].GetString(), "resolve_timeout");
  EXPECT_TRUE(d["error_detail"].IsNull());
  Message capped;
  capped.error.emplace();
  capped.error->code = ErrorCode::kSmsLimitReached;
  d.Parse(RenderMessageJson(capped).c_str());
  EXPECT_STREQ(d["error_code"].GetString(), "SMS_LIMIT_REACHED");
}

TEST(MessageJsonTest, TimestampsHaveMillisecondsAndRoundTrip) {
  const TimePoint t = FromUnixMillis(1'765'553'735'410);
  EXPECT_EQ(FormatIso8601(t), "2025-12-12T15:35:35.410Z");
  EXPECT_EQ(ParseIso8601("2025-12-12T15:35:35.410Z"), t);
  EXPECT_EQ(ParseIso8601("2025-12-12T15:35:35.41Z"), t);
  EXPECT_EQ(ParseIso8601("2025-13-12"), std::nullopt);
}

}  // namespace
}  // namespace bluegate
