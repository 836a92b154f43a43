// The JSON payloads of account events (the webhooks of those types, and the data of the matching
// /api/v2/events frames), written in one place beside the message renderer (message_json.h) so
// that the layers that raise them (queue/, store/, app/) cannot drift apart. docs/webhooks.md
// describes each.
#pragma once

#include <string>
#include <string_view>

#include "core/clock.h"

namespace bluegate {

// line_blocked webhook: {"type","sendblue_number","status","previous_status","reason","changed_at"}.
std::string LineBlockedJson(std::string_view line, std::string_view status,
                            std::string_view previous_status, std::string_view reason,
                            TimePoint changed_at);
// line.blocked event data: {"sendblue_number","status"}.
std::string LineBlockedEventData(std::string_view line, std::string_view status);
// typing_indicator webhook and typing.changed event data:
// {"number","is_typing","from_number","sendblue_number","timestamp"}.
std::string TypingJson(std::string_view from, bool is_typing, std::string_view line,
                       TimePoint at);
// line_assigned webhook: {"type","sendblue_number","account_email","carrier","assigned_at"}.
std::string LineAssignedJson(std::string_view line, std::string_view account_email,
                             std::string_view carrier, TimePoint assigned_at);
// contact_created webhook and event data:
// {"type","number","sendblue_number","contact_id","created_at"}.
std::string ContactCreatedJson(std::string_view number, std::string_view line,
                               std::string_view contact_id, TimePoint created_at);

}  // namespace bluegate
