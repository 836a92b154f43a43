#include "core/account_events.h"

#include <gtest/gtest.h>

namespace bluegate {
namespace {

const TimePoint kAt = FromUnixMillis(1'765'553'735'410);  // 2025-12-12T15:35:35.410Z

TEST(AccountEventsTest, LineBlocked) {
  EXPECT_EQ(LineBlockedJson("+14155550100", "OFFLINE", "ONLINE", "bind refused", kAt),
            R"({"type":"line_blocked","sendblue_number":"+14155550100","status":"OFFLINE",)"
            R"("previous_status":"ONLINE","reason":"bind refused",)"
            R"("changed_at":"2025-12-12T15:35:35.410Z"})");
  EXPECT_EQ(LineBlockedEventData("+14155550100", "DEGRADED"),
            R"({"sendblue_number":"+14155550100","status":"DEGRADED"})");
}

TEST(AccountEventsTest, TypingLineAssignedAndContactCreated) {
  EXPECT_EQ(TypingJson("+12125550100", true, "+14155550100", kAt),
            R"({"number":"+12125550100","is_typing":true,"from_number":"+12125550100",)"
            R"("sendblue_number":"+14155550100","timestamp":"2025-12-12T15:35:35.410Z"})");
  EXPECT_EQ(LineAssignedJson("+14155550100", "ops@example.com", "smpp", kAt),
            R"({"type":"line_assigned","sendblue_number":"+14155550100",)"
            R"("account_email":"ops@example.com","carrier":"smpp",)"
            R"("assigned_at":"2025-12-12T15:35:35.410Z"})");
  EXPECT_EQ(ContactCreatedJson("+12125550100", "+14155550100", "c-1", kAt),
            R"({"type":"contact_created","number":"+12125550100",)"
            R"("sendblue_number":"+14155550100","contact_id":"c-1",)"
            R"("created_at":"2025-12-12T15:35:35.410Z"})");
}

TEST(AccountEventsTest, TextIsEscaped) {
  EXPECT_EQ(LineBlockedEventData("a\"b", "x\ny"), R"({"sendblue_number":"a\"b","status":"x\ny"})");
}

}  // namespace
}  // namespace bluegate
