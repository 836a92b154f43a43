// Delivery receipts: what an SMSC's deliver_sm says became of a submitted message. Receipts are
// read leniently — SMSCs differ in case, spacing, field order and whether ids are hex or decimal —
// from the receipt text (SMPP 3.4 Appendix B) and the receipted_message_id / message_state TLVs,
// which win when both are present.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "carriers/smpp/pdu.h"

namespace bluegate::carriers::smpp {

enum class ReceiptState {
  kEnroute,    // ENROUTE, ACCEPTD: on its way (SENT)
  kDelivered,  // DELIVRD
  kFailed,     // EXPIRED, DELETED, UNDELIV, REJECTD
  kUnknown,    // UNKNOWN or unreadable: says nothing new
};

struct Receipt {
  std::string message_id;  // the SMSC's id, as the receipt gives it
  ReceiptState state = ReceiptState::kUnknown;
  std::string stat;   // the state's name ("DELIVRD", "UNDELIV"...)
  std::string error;  // the err: field or network_error_code, when given
};

// The receipt a deliver_sm carries, or nullopt when it is not a receipt (a message from a phone).
std::optional<Receipt> ParseReceipt(const Pdu& deliver_sm);

// The forms an SMSC's id may take in a receipt when the submit_sm_resp gave it as `id`: the id
// itself (lowercased), and its value written in the other base (decimal for hex, hex for decimal).
std::vector<std::string> IdForms(std::string_view id);

}  // namespace bluegate::carriers::smpp
