// The message value: one row of the store, one JSON object on the wire (SPEC.md §2).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/error_code.h"
#include "core/status.h"

namespace bluegate {

struct MessageError {
  ErrorCode code = ErrorCode::kFailedToSend;
  std::string message;                // error_message: a sentence for people
  std::optional<std::string> reason;  // error_reason: a short machine-readable cause
  std::optional<std::string> detail;  // error_detail: what the carrier said, verbatim
};

struct Message {
  int64_t id = 0;      // store row id; 0 until stored
  std::string handle;  // message_handle: UUID, unique, never reused
  int64_t account_id = 0;
  std::string account_email;
  std::string plan;
  bool is_outbound = true;
  std::string content;
  std::string media_url;
  std::string original_media_url;  // the app's media_url, when a compressed copy replaced it
  std::string send_style;
  std::string status_callback;
  Status status = Status::kRegistered;
  std::optional<MessageError> error;
  std::string line_number;  // sendblue_number: the account's line
  std::string contact;      // number: always the end user
  Service service = Service::kIMessage;
  std::optional<bool> was_downgraded;
  std::string message_type = "message";
  std::string group_id;
  std::vector<std::string> participants;  // a group message: everyone in the group
  std::string group_display_name;
  bool opted_out = false;
  TimePoint date_created{};
  TimePoint date_updated{};
  std::optional<TimePoint> date_read;
  bool new_contact = false;  // starts a conversation (paced by the line's new-contact limits)

  const std::string& from_number() const { return is_outbound ? line_number : contact; }
  const std::string& to_number() const { return is_outbound ? contact : line_number; }
};

}  // namespace bluegate
