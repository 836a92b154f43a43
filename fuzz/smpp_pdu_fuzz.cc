// libFuzzer target: bytes from an SMSC, through PDU framing and decoding, receipt parsing and the
// text decoders, and a decoded PDU back through the encoder. None may crash, hang or read out of
// bounds, whatever the bytes.
#include <cstddef>
#include <cstdint>
#include <string>

#include "carriers/smpp/pdu.h"
#include "carriers/smpp/receipt.h"
#include "carriers/smpp/text.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace bluegate::carriers::smpp;
  const std::string input(reinterpret_cast<const char*>(data), size);
  (void)FrameLength(input);
  Pdu header;
  auto pdu = Decode(input, &header);
  if (pdu.ok()) {
    (void)ParseReceipt(pdu.value());
    const std::string& sm = pdu->short_message;
    if (auto udh = ReadUdh(sm)) (void)DecodeText(pdu->data_coding, sm.substr(udh->second));
    (void)DecodeText(pdu->data_coding, sm);
    auto again = Decode(Encode(pdu.value()));
    if (!again.ok()) __builtin_trap();  // what we encode, we must read back
  }
  (void)DecodeGsm(input);
  (void)DecodeUcs2(input);
  (void)EncodeForSms(input, 1);
  (void)IdForms(input.substr(0, 20));
  return 0;
}
