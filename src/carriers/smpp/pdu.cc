#include "carriers/smpp/pdu.h"

#include <fmt/format.h>

namespace bluegate::carriers::smpp {
namespace {

class Writer {
 public:
  void U8(uint8_t v) { out_ += static_cast<char>(v); }
  void U16(uint16_t v) {
    U8(static_cast<uint8_t>(v >> 8));
    U8(static_cast<uint8_t>(v));
  }
  void U32(uint32_t v) {
    U16(static_cast<uint16_t>(v >> 16));
    U16(static_cast<uint16_t>(v));
  }
  // A C-octet string: at most max - 1 characters and its NUL.
  void CString(std::string_view s, size_t max) {
    s = s.substr(0, max - 1);
    s = s.substr(0, s.find('\0'));
    out_.append(s);
    U8(0);
  }
  void Bytes(std::string_view s) { out_.append(s); }
  std::string& out() { return out_; }

 private:
  std::string out_;
};

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  bool empty() const { return pos_ >= in_.size(); }

  Result<uint8_t> U8(const char* field) {
    if (pos_ + 1 > in_.size()) return Short(field);
    return static_cast<uint8_t>(in_[pos_++]);
  }
  Result<uint16_t> U16(const char* field) {
    if (pos_ + 2 > in_.size()) return Short(field);
    const auto* p = reinterpret_cast<const uint8_t*>(in_.data() + pos_);
    pos_ += 2;
    return static_cast<uint16_t>((p[0] << 8) | p[1]);
  }
  Result<uint32_t> U32(const char* field) {
    if (pos_ + 4 > in_.size()) return Short(field);
    const auto* p = reinterpret_cast<const uint8_t*>(in_.data() + pos_);
    pos_ += 4;
    return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
  }
  // A C-octet string of at most `max` octets, NUL included.
  Result<std::string> CString(const char* field, size_t max) {
    const size_t end = in_.find('\0', pos_);
    if (end == std::string_view::npos) {
      return Error::Invalid(std::string(field) + " has no terminating NUL");
    }
    if (end - pos_ + 1 > max) {
      return Error::Invalid(std::string(field) + " is longer than " + std::to_string(max - 1) +
                            " octets");
    }
    std::string s(in_.substr(pos_, end - pos_));
    pos_ = end + 1;
    return s;
  }
  Result<std::string> Bytes(const char* field, size_t n) {
    if (pos_ + n > in_.size()) return Short(field);
    std::string s(in_.substr(pos_, n));
    pos_ += n;
    return s;
  }

 private:
  static Error Short(const char* field) {
    return Error::Invalid(std::string("the PDU ends inside ") + field);
  }
  std::string_view in_;
  size_t pos_ = 0;
};

#define BG_READ(dst, expr)           \
  do {                               \
    auto r_ = (expr);                \
    if (!r_.ok()) return r_.error(); \
    dst = std::move(r_.value());     \
  } while (0)

bool IsBind(uint32_t id) {
  return id == kBindTransceiver || id == kBindTransmitter || id == kBindReceiver;
}
bool IsBindResp(uint32_t id) {
  return id == kBindTransceiverResp || id == kBindTransmitterResp || id == kBindReceiverResp;
}
bool IsSm(uint32_t id) { return id == kSubmitSm || id == kDeliverSm; }

Result<Ok> ReadTlvs(Reader& r, Pdu& p) {
  while (!r.empty()) {
    Tlv t;
    uint16_t len = 0;
    BG_READ(t.tag, r.U16("a TLV tag"));
    BG_READ(len, r.U16("a TLV length"));
    BG_READ(t.value, r.Bytes("a TLV value", len));
    p.tlvs.push_back(std::move(t));
  }
  return Ok{};
}

}  // namespace

const Tlv* Pdu::FindTlv(uint16_t tag) const {
  for (const auto& t : tlvs) {
    if (t.tag == tag) return &t;
  }
  return nullptr;
}

std::string Encode(const Pdu& p) {
  Writer w;
  w.U32(0);  // command_length, filled in below
  w.U32(p.command_id);
  w.U32(p.command_status);
  w.U32(p.sequence);
  if (IsBind(p.command_id)) {
    w.CString(p.system_id, 16);
    w.CString(p.password, 9);
    w.CString(p.system_type, 13);
    w.U8(p.interface_version);
    w.U8(p.addr_ton);
    w.U8(p.addr_npi);
    w.CString(p.address_range, 41);
  } else if (IsBindResp(p.command_id)) {
    w.CString(p.system_id, 16);
  } else if (IsSm(p.command_id)) {
    w.CString(p.service_type, 6);
    w.U8(p.source_addr_ton);
    w.U8(p.source_addr_npi);
    w.CString(p.source_addr, 21);
    w.U8(p.dest_addr_ton);
    w.U8(p.dest_addr_npi);
    w.CString(p.destination_addr, 21);
    w.U8(p.esm_class);
    w.U8(p.protocol_id);
    w.U8(p.priority_flag);
    w.CString(p.schedule_delivery_time, 17);
    w.CString(p.validity_period, 17);
    w.U8(p.registered_delivery);
    w.U8(p.replace_if_present_flag);
    w.U8(p.data_coding);
    w.U8(p.sm_default_msg_id);
    const std::string_view sm = std::string_view(p.short_message).substr(0, 254);
    w.U8(static_cast<uint8_t>(sm.size()));
    w.Bytes(sm);
  } else if (p.command_id == kSubmitSmResp || p.command_id == kDeliverSmResp) {
    // A failed submit_sm_resp may carry no body at all; an empty id is sent as a lone NUL.
    // (TLVs after it need it, though: they would otherwise read as the id.)
    if (p.command_status == kStatusOk || !p.message_id.empty() || !p.tlvs.empty()) {
      w.CString(p.message_id, 65);
    }
  }
  for (const auto& t : p.tlvs) {
    w.U16(t.tag);
    w.U16(static_cast<uint16_t>(t.value.size()));
    w.Bytes(t.value);
  }
  std::string& out = w.out();
  const auto len = static_cast<uint32_t>(out.size());
  out[0] = static_cast<char>(len >> 24);
  out[1] = static_cast<char>(len >> 16);
  out[2] = static_cast<char>(len >> 8);
  out[3] = static_cast<char>(len);
  return std::move(out);
}

Result<uint32_t> FrameLength(std::string_view header) {
  if (header.size() < 4) return Error::Invalid("a PDU header is 16 octets");
  Reader r(header);
  uint32_t len = 0;
  BG_READ(len, r.U32("command_length"));
  if (len < kHeaderSize || len > kMaxPduSize) {
    return Error::Invalid(
        fmt::format("command_length {} is outside {}..{}", len, kHeaderSize, kMaxPduSize));
  }
  return len;
}

Result<Pdu> Decode(std::string_view bytes, Pdu* header_out) {
  Reader r(bytes);
  Pdu p;
  uint32_t len = 0;
  BG_READ(len, r.U32("command_length"));
  BG_READ(p.command_id, r.U32("command_id"));
  BG_READ(p.command_status, r.U32("command_status"));
  BG_READ(p.sequence, r.U32("sequence_number"));
  if (header_out) {
    header_out->command_id = p.command_id;
    header_out->sequence = p.sequence;
  }
  if (len != bytes.size()) {
    return Error::Invalid(
        fmt::format("command_length {} but the PDU is {} octets", len, bytes.size()));
  }
  if (IsBind(p.command_id)) {
    BG_READ(p.system_id, r.CString("system_id", 16));
    BG_READ(p.password, r.CString("password", 9));
    BG_READ(p.system_type, r.CString("system_type", 13));
    BG_READ(p.interface_version, r.U8("interface_version"));
    BG_READ(p.addr_ton, r.U8("addr_ton"));
    BG_READ(p.addr_npi, r.U8("addr_npi"));
    BG_READ(p.address_range, r.CString("address_range", 41));
  } else if (IsBindResp(p.command_id)) {
    // An SMSC refusing a bind may send the header alone.
    if (!r.empty()) BG_READ(p.system_id, r.CString("system_id", 16));
  } else if (IsSm(p.command_id)) {
    BG_READ(p.service_type, r.CString("service_type", 6));
    BG_READ(p.source_addr_ton, r.U8("source_addr_ton"));
    BG_READ(p.source_addr_npi, r.U8("source_addr_npi"));
    BG_READ(p.source_addr, r.CString("source_addr", 21));
    BG_READ(p.dest_addr_ton, r.U8("dest_addr_ton"));
    BG_READ(p.dest_addr_npi, r.U8("dest_addr_npi"));
    BG_READ(p.destination_addr, r.CString("destination_addr", 21));
    BG_READ(p.esm_class, r.U8("esm_class"));
    BG_READ(p.protocol_id, r.U8("protocol_id"));
    BG_READ(p.priority_flag, r.U8("priority_flag"));
    BG_READ(p.schedule_delivery_time, r.CString("schedule_delivery_time", 17));
    BG_READ(p.validity_period, r.CString("validity_period", 17));
    BG_READ(p.registered_delivery, r.U8("registered_delivery"));
    BG_READ(p.replace_if_present_flag, r.U8("replace_if_present_flag"));
    BG_READ(p.data_coding, r.U8("data_coding"));
    BG_READ(p.sm_default_msg_id, r.U8("sm_default_msg_id"));
    uint8_t sm_length = 0;
    BG_READ(sm_length, r.U8("sm_length"));
    BG_READ(p.short_message, r.Bytes("short_message", sm_length));
  } else if (p.command_id == kSubmitSmResp || p.command_id == kDeliverSmResp) {
    // The body is absent on some errors (SMPP 3.4 §4.4.2).
    if (!r.empty()) BG_READ(p.message_id, r.CString("message_id", 65));
  } else if (p.command_id == kEnquireLink || p.command_id == kEnquireLinkResp ||
             p.command_id == kUnbind || p.command_id == kUnbindResp ||
             p.command_id == kGenericNack) {
    // Header only.
  } else {
    return Error::Invalid("unsupported command " + CommandName(p.command_id));
  }
  if (auto t = ReadTlvs(r, p); !t.ok()) return t.error();
  return p;
}

#undef BG_READ

std::string CommandName(uint32_t id) {
  switch (id) {
    case kGenericNack:
      return "generic_nack";
    case kBindReceiver:
      return "bind_receiver";
    case kBindReceiverResp:
      return "bind_receiver_resp";
    case kBindTransmitter:
      return "bind_transmitter";
    case kBindTransmitterResp:
      return "bind_transmitter_resp";
    case kSubmitSm:
      return "submit_sm";
    case kSubmitSmResp:
      return "submit_sm_resp";
    case kDeliverSm:
      return "deliver_sm";
    case kDeliverSmResp:
      return "deliver_sm_resp";
    case kUnbind:
      return "unbind";
    case kUnbindResp:
      return "unbind_resp";
    case kBindTransceiver:
      return "bind_transceiver";
    case kBindTransceiverResp:
      return "bind_transceiver_resp";
    case kEnquireLink:
      return "enquire_link";
    case kEnquireLinkResp:
      return "enquire_link_resp";
    default:
      return fmt::format("0x{:08x}", id);
  }
}

std::string StatusName(uint32_t status) {
  const char* name = nullptr;
  switch (status) {
    case kStatusOk:
      name = "ESME_ROK";
      break;
    case kStatusInvalidLength:
      name = "ESME_RINVCMDLEN";
      break;
    case kStatusInvalidCommand:
      name = "ESME_RINVCMDID";
      break;
    case kStatusAlreadyBound:
      name = "ESME_RALYBND";
      break;
    case kStatusSystemError:
      name = "ESME_RSYSERR";
      break;
    case kStatusBindFailed:
      name = "ESME_RBINDFAIL";
      break;
    case kStatusInvalidPassword:
      name = "ESME_RINVPASWD";
      break;
    case kStatusInvalidSystemId:
      name = "ESME_RINVSYSID";
      break;
    case kStatusQueueFull:
      name = "ESME_RMSGQFUL";
      break;
    case kStatusThrottled:
      name = "ESME_RTHROTTLED";
      break;
    default:
      break;
  }
  return name ? fmt::format("{} (0x{:x})", name, status) : fmt::format("0x{:x}", status);
}

}  // namespace bluegate::carriers::smpp
