// SMPP 3.4 protocol data units: the commands an ESME (this gateway) exchanges with an SMSC, their
// encoding on the wire and their decoding, which never trusts a length it was sent.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace bluegate::carriers::smpp {

// command_id values (SMPP 3.4 §5.1.2.1).
enum CommandId : uint32_t {
  kGenericNack = 0x80000000,
  kBindReceiver = 0x00000001,
  kBindReceiverResp = 0x80000001,
  kBindTransmitter = 0x00000002,
  kBindTransmitterResp = 0x80000002,
  kSubmitSm = 0x00000004,
  kSubmitSmResp = 0x80000004,
  kDeliverSm = 0x00000005,
  kDeliverSmResp = 0x80000005,
  kUnbind = 0x00000006,
  kUnbindResp = 0x80000006,
  kBindTransceiver = 0x00000009,
  kBindTransceiverResp = 0x80000009,
  kEnquireLink = 0x00000015,
  kEnquireLinkResp = 0x80000015,
};

// command_status values this gateway acts on (SMPP 3.4 §5.1.3).
enum CommandStatus : uint32_t {
  kStatusOk = 0x00000000,
  kStatusInvalidLength = 0x00000002,    // ESME_RINVCMDLEN
  kStatusInvalidCommand = 0x00000003,   // ESME_RINVCMDID
  kStatusAlreadyBound = 0x00000005,     // ESME_RALYBND
  kStatusBindFailed = 0x0000000D,       // ESME_RBINDFAIL
  kStatusInvalidPassword = 0x0000000E,  // ESME_RINVPASWD
  kStatusInvalidSystemId = 0x0000000F,  // ESME_RINVSYSID
  kStatusQueueFull = 0x00000014,        // ESME_RMSGQFUL
  kStatusSystemError = 0x00000008,      // ESME_RSYSERR
  kStatusThrottled = 0x00000058,        // ESME_RTHROTTLED
};

// Optional parameter tags this gateway reads or writes (SMPP 3.4 §5.3.2).
enum TlvTag : uint16_t {
  kTagReceiptedMessageId = 0x001E,
  kTagMessagePayload = 0x0424,
  kTagMessageState = 0x0427,
  kTagNetworkErrorCode = 0x0423,
  kTagScInterfaceVersion = 0x0210,
};

// esm_class bits.
inline constexpr uint8_t kEsmUdhi = 0x40;
inline constexpr uint8_t kEsmMessageTypeMask = 0x3C;
inline constexpr uint8_t kEsmDeliveryReceipt = 0x04;  // SMSC delivery receipt
inline constexpr uint8_t kEsmIntermediateNotification = 0x20;

inline constexpr size_t kHeaderSize = 16;
// The largest PDU read from a peer; anything longer is a framing error, not an allocation.
inline constexpr uint32_t kMaxPduSize = 64 * 1024;

struct Tlv {
  uint16_t tag = 0;
  std::string value;
};

// Every field of the commands above; each command uses its own subset (the rest stay empty).
struct Pdu {
  uint32_t command_id = 0;
  uint32_t command_status = 0;
  uint32_t sequence = 0;

  // bind_*: the ESME's credentials and address range.
  std::string system_id;
  std::string password;
  std::string system_type;
  uint8_t interface_version = 0x34;
  uint8_t addr_ton = 0;
  uint8_t addr_npi = 0;
  std::string address_range;

  // submit_sm, deliver_sm.
  std::string service_type;
  uint8_t source_addr_ton = 0;
  uint8_t source_addr_npi = 0;
  std::string source_addr;
  uint8_t dest_addr_ton = 0;
  uint8_t dest_addr_npi = 0;
  std::string destination_addr;
  uint8_t esm_class = 0;
  uint8_t protocol_id = 0;
  uint8_t priority_flag = 0;
  std::string schedule_delivery_time;
  std::string validity_period;
  uint8_t registered_delivery = 0;
  uint8_t replace_if_present_flag = 0;
  uint8_t data_coding = 0;
  uint8_t sm_default_msg_id = 0;
  std::string short_message;  // octets, up to 254

  // submit_sm_resp, deliver_sm_resp.
  std::string message_id;

  std::vector<Tlv> tlvs;

  const Tlv* FindTlv(uint16_t tag) const;
};

// The PDU on the wire, header included.
std::string Encode(const Pdu& pdu);

// The command_length in a 16-octet header: kInvalidLength when it is under 16 or over kMaxPduSize.
Result<uint32_t> FrameLength(std::string_view header);

// A whole PDU (header included). Fails with a message naming the field that does not fit; the
// header is still reported (command_id, sequence) through `header_out` when it could be read, so
// that a generic_nack can answer it.
Result<Pdu> Decode(std::string_view bytes, Pdu* header_out = nullptr);

// "submit_sm", "deliver_sm_resp", "0x00000103" for unknown ones: for logs.
std::string CommandName(uint32_t command_id);
// "ESME_RTHROTTLED (0x58)": for error_detail and logs.
std::string StatusName(uint32_t command_status);

}  // namespace bluegate::carriers::smpp
