// POST /api/send-message as received, and the validation rules of SPEC.md §4. Pure: the API layer
// decodes the body into a SendRequest, this file decides whether it is acceptable.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/phone.h"
#include "core/result.h"

namespace bluegate {

inline constexpr size_t kMaxContentChars = 18'995;  // "content < 18,996 characters"

struct SendRequest {
  std::optional<std::string> number;
  std::optional<std::string> from_number;
  std::optional<std::string> content;
  std::optional<std::string> media_url;
  std::optional<std::string> send_style;
  std::optional<std::string> status_callback;
  // Sendblue fields bluegate refuses rather than silently ignore (app_card, reply_to, seat_id).
  std::vector<std::string> unsupported;
};

struct ValidSend {
  std::string contact;  // E.164
  std::string line;     // E.164; empty when from_number was omitted (routing decides)
  std::string content;
  std::string media_url;
  std::string send_style;
  std::string status_callback;
};

// Checks every field and normalises the numbers. The first problem found is returned, naming the
// field. `from_number` ownership is checked by the caller, which knows the account's lines.
Result<ValidSend> ValidateSend(const SendRequest& req, const PhoneNumbers& phones);

// Route mapping (SPEC.md §6): the refusal of a send from `line` to a contact bound elsewhere.
// The API checks first (cheaply) and the store again inside its transaction; both say this.
Error BoundToAnotherLine(const std::string& contact, const std::string& bound_line);

bool IsSendStyle(std::string_view style);
// Counts Unicode code points; the input is known to be valid UTF-8.
size_t Utf8Length(std::string_view text);

}  // namespace bluegate
