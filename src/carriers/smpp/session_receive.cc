// The session's receiving side: deliver_sm (messages and receipts) and what they report.
#include "carriers/smpp/session.h"

namespace bluegate::carriers::smpp {

void Session::OnDeliverSm(const Pdu& p) {
  Pdu resp;
  resp.command_id = kDeliverSmResp;
  resp.sequence = p.sequence;
  Write(Encode(resp));
  if (auto r = ParseReceipt(p)) return OnReceipt(*r);
  std::string payload = p.short_message;
  if (payload.empty()) {
    if (const Tlv* t = p.FindTlv(kTagMessagePayload)) payload = t->value;
  }
  std::optional<Concatenation> concat;
  if (p.esm_class & kEsmUdhi) {
    if (auto udh = ReadUdh(payload)) {
      concat = udh->first;
      payload = payload.substr(udh->second);
    }
  }
  const std::string from = FromAddress(p.source_addr);
  std::string text = DecodeText(p.data_coding, payload);
  if (concat) {
    auto whole = reassembler_.Add(from, *concat, std::move(text), clock_.Now());
    if (!whole) return;
    text = std::move(*whole);
  }
  Inbound(from, std::move(text));
}

void Session::Inbound(std::string from, std::string text) {
  CarrierEvent e;
  e.kind = CarrierEvent::Kind::kInbound;
  e.at = clock_.Now();
  e.line = line_;
  e.from = std::move(from);
  e.content = std::move(text);
  e.service = Service::kSms;
  Emit(std::move(e));
}

void Session::OnReceipt(const Receipt& r) {
  std::shared_ptr<Tracked> t;
  for (const auto& form : IdForms(r.message_id)) {
    if (auto it = tracked_.find(Key(form)); it != tracked_.end()) {
      t = it->second;
      break;
    }
  }
  if (!t) {
    spdlog::debug("line {}: receipt for unknown SMSC id {} ({})", line_, r.message_id, r.stat);
    return;
  }
  if (r.state == ReceiptState::kDelivered) {
    if (++t->delivered < t->segments) return;
    Untrack(*t);
    CarrierEvent e = StatusEvent(t->message_id, t->handle, Status::kDelivered);
    e.receipt = true;
    Emit(std::move(e));
  } else if (r.state == ReceiptState::kFailed) {
    Untrack(*t);
    CarrierEvent e = StatusEvent(t->message_id, t->handle, Status::kError);
    e.receipt = true;
    e.error = MessageError{ErrorCode::kFailedToSend, "The carrier could not deliver the message",
                           "carrier_undelivered",
                           "stat: " + r.stat + (r.error.empty() ? "" : " err: " + r.error)};
    Emit(std::move(e));
  }
}

void Session::Untrack(const Tracked& t) {
  for (const auto& k : t.keys) tracked_.erase(k);
}

}  // namespace bluegate::carriers::smpp
