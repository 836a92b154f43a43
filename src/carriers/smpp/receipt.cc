#include "carriers/smpp/receipt.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include <fmt/format.h>

namespace bluegate::carriers::smpp {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// The value after `key` ("id:", "stat:") in receipt text: up to the next space, or for a key at
// the end, the rest. Case-insensitive; the key must start a word.
std::optional<std::string> Field(std::string_view text, std::string_view lower_text,
                                 std::string_view key) {
  size_t at = 0;
  while ((at = lower_text.find(key, at)) != std::string_view::npos) {
    if (at == 0 || lower_text[at - 1] == ' ') break;
    at += key.size();
  }
  if (at == std::string_view::npos) return std::nullopt;
  size_t start = at + key.size();
  while (start < text.size() && text[start] == ' ') ++start;
  size_t end = start;
  while (end < text.size() && text[end] != ' ') ++end;
  return std::string(text.substr(start, end - start));
}

ReceiptState StateOfStat(std::string_view stat) {
  const std::string s = Lower(stat);
  if (s.starts_with("deliv")) return ReceiptState::kDelivered;  // DELIVRD, DELIVERED
  if (s.starts_with("enrout") || s.starts_with("accept")) return ReceiptState::kEnroute;
  if (s.starts_with("undeliv") || s.starts_with("expir") || s.starts_with("delet") ||
      s.starts_with("reject") || s.starts_with("fail")) {
    return ReceiptState::kFailed;
  }
  return ReceiptState::kUnknown;
}

// message_state values (SMPP 3.4 §5.2.28).
std::pair<ReceiptState, const char*> StateOfTlv(uint8_t v) {
  switch (v) {
    case 1:
      return {ReceiptState::kEnroute, "ENROUTE"};
    case 2:
      return {ReceiptState::kDelivered, "DELIVRD"};
    case 3:
      return {ReceiptState::kFailed, "EXPIRED"};
    case 4:
      return {ReceiptState::kFailed, "DELETED"};
    case 5:
      return {ReceiptState::kFailed, "UNDELIV"};
    case 6:
      return {ReceiptState::kEnroute, "ACCEPTD"};
    case 8:
      return {ReceiptState::kFailed, "REJECTD"};
    default:
      return {ReceiptState::kUnknown, "UNKNOWN"};
  }
}

}  // namespace

std::optional<Receipt> ParseReceipt(const Pdu& p) {
  const bool flagged = (p.esm_class & kEsmMessageTypeMask) == kEsmDeliveryReceipt ||
                       (p.esm_class & kEsmMessageTypeMask) == kEsmIntermediateNotification;
  const Tlv* id_tlv = p.FindTlv(kTagReceiptedMessageId);
  const Tlv* state_tlv = p.FindTlv(kTagMessageState);
  if (!flagged && !id_tlv) return std::nullopt;

  Receipt r;
  std::string_view text = p.short_message;
  if (text.empty()) {
    if (const Tlv* payload = p.FindTlv(kTagMessagePayload)) text = payload->value;
  }
  const std::string lower = Lower(text);
  if (auto id = Field(text, lower, "id:")) r.message_id = *id;
  if (auto stat = Field(text, lower, "stat:")) {
    r.stat = *stat;
    r.state = StateOfStat(*stat);
  }
  if (auto err = Field(text, lower, "err:")) r.error = *err;

  if (id_tlv) {
    std::string_view v = id_tlv->value;
    if (auto nul = v.find('\0'); nul != std::string_view::npos) v = v.substr(0, nul);
    if (!v.empty()) r.message_id = std::string(v);
  }
  if (state_tlv && state_tlv->value.size() == 1) {
    auto [state, name] = StateOfTlv(static_cast<uint8_t>(state_tlv->value[0]));
    r.state = state;
    r.stat = name;
  }
  if (const Tlv* net = p.FindTlv(kTagNetworkErrorCode);
      net && net->value.size() == 3 && (r.error.empty() || r.error == "000")) {
    const auto* b = reinterpret_cast<const uint8_t*>(net->value.data());
    r.error = fmt::format("network type {} error {}", b[0], (b[1] << 8) | b[2]);
  }
  if (r.message_id.empty()) return std::nullopt;  // a receipt for nothing we could match
  return r;
}

std::vector<std::string> IdForms(std::string_view id) {
  std::vector<std::string> forms{Lower(id)};
  if (id.empty() || id.size() > 16) return forms;
  uint64_t v = 0;
  const char* end = id.data() + id.size();
  if (auto [p, ec] = std::from_chars(id.data(), end, v, 10); ec == std::errc() && p == end) {
    forms.push_back(fmt::format("{:x}", v));
  }
  if (auto [p, ec] = std::from_chars(id.data(), end, v, 16); ec == std::errc() && p == end) {
    forms.push_back(std::to_string(v));
  }
  // Leading zeros are padding some SMSCs add to one form and not the other.
  for (size_t i = 0, n = forms.size(); i < n; ++i) {
    const size_t nz = forms[i].find_first_not_of('0');
    if (nz != 0 && nz != std::string::npos) forms.push_back(forms[i].substr(nz));
  }
  return forms;
}

}  // namespace bluegate::carriers::smpp
