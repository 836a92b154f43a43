#include "carriers/smpp/pdu.h"

#include <gtest/gtest.h>

#include "carriers/smpp/receipt.h"

namespace bluegate::carriers::smpp {
namespace {

TEST(SmppPdu, BindTransceiverHasTheSpecLayout) {
  Pdu p;
  p.command_id = kBindTransceiver;
  p.sequence = 7;
  p.system_id = "acme";
  p.password = "pw";
  const std::string wire = Encode(p);
  // 16 header + "acme\0" + "pw\0" + "\0" (system_type) + version, ton, npi + "\0" (range).
  ASSERT_EQ(wire.size(), 16u + 5 + 3 + 1 + 3 + 1);
  EXPECT_EQ(wire.substr(0, 4), std::string("\0\0\0\x1d", 4));
  EXPECT_EQ(wire.substr(4, 4), std::string("\0\0\0\x09", 4));
  EXPECT_EQ(wire.substr(12, 4), std::string("\0\0\0\x07", 4));
  EXPECT_EQ(static_cast<uint8_t>(wire[16 + 5 + 3 + 1]), 0x34);  // interface_version 3.4
  auto back = Decode(wire);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->system_id, "acme");
  EXPECT_EQ(back->password, "pw");
  EXPECT_EQ(back->sequence, 7u);
}

TEST(SmppPdu, SubmitSmRoundTripsWithBinaryTextAndTlvs) {
  Pdu p;
  p.command_id = kSubmitSm;
  p.sequence = 42;
  p.source_addr_ton = 1;
  p.source_addr_npi = 1;
  p.source_addr = "14155550100";
  p.dest_addr_ton = 1;
  p.dest_addr_npi = 1;
  p.destination_addr = "12125550123";
  p.esm_class = kEsmUdhi;
  p.registered_delivery = 1;
  p.data_coding = 0x08;
  p.short_message = std::string("\x05\x00\x03\x01\x02\x01\x00h\x00i", 10);
  p.tlvs.push_back(Tlv{0x1403, "x"});
  auto back = Decode(Encode(p));
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->destination_addr, "12125550123");
  EXPECT_EQ(back->source_addr, "14155550100");
  EXPECT_EQ(back->esm_class, kEsmUdhi);
  EXPECT_EQ(back->data_coding, 0x08);
  EXPECT_EQ(back->short_message, p.short_message);
  ASSERT_NE(back->FindTlv(0x1403), nullptr);
  EXPECT_EQ(back->FindTlv(0x1403)->value, "x");
}

TEST(SmppPdu, ResponsesMayComeWithoutABody) {
  Pdu p;
  p.command_id = kSubmitSmResp;
  p.command_status = kStatusThrottled;
  p.sequence = 3;
  const std::string wire = Encode(p);
  EXPECT_EQ(wire.size(), kHeaderSize);
  auto back = Decode(wire);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->command_status, kStatusThrottled);
  EXPECT_EQ(back->message_id, "");
  Pdu ok;
  ok.command_id = kSubmitSmResp;
  ok.message_id = "abc123";
  EXPECT_EQ(Decode(Encode(ok))->message_id, "abc123");
}

TEST(SmppPdu, RefusesLengthsThatDoNotAddUp) {
  EXPECT_FALSE(FrameLength(std::string("\0\0\0\x0f", 4)).ok());       // under the header
  EXPECT_FALSE(FrameLength(std::string("\x7f\0\0\0", 4)).ok());       // absurdly long
  EXPECT_EQ(FrameLength(std::string("\0\0\0\x10", 4)).value(), 16u);  // header only
  Pdu p;
  p.command_id = kSubmitSm;
  std::string wire = Encode(p);
  Pdu header;
  // A short_message longer than the PDU.
  wire[wire.size() - 1] = 10;
  auto r = Decode(wire, &header);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("short_message"), std::string::npos) << r.error().message;
  EXPECT_EQ(header.command_id, kSubmitSm);
  // A C-string without its NUL.
  Pdu bind;
  bind.command_id = kBindTransceiverResp;
  std::string b = Encode(bind);
  b.back() = 'x';
  EXPECT_FALSE(Decode(b).ok());
  // command_length disagreeing with the bytes.
  Pdu enquire;
  enquire.command_id = kEnquireLink;
  std::string e = Encode(enquire);
  e += "zz";
  EXPECT_FALSE(Decode(e).ok());
}

TEST(SmppPdu, UnknownCommandsAreRefusedWithTheirHeader) {
  Pdu p;
  p.command_id = 0x00000103;  // data_sm: not spoken here
  p.sequence = 9;
  std::string wire = Encode(p);
  Pdu header;
  auto r = Decode(wire, &header);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(header.sequence, 9u);
  EXPECT_EQ(header.command_id, 0x00000103u);
  EXPECT_EQ(StatusName(0x58), "ESME_RTHROTTLED (0x58)");
  EXPECT_EQ(CommandName(kDeliverSm), "deliver_sm");
}

Pdu DeliverReceipt(std::string text) {
  Pdu p;
  p.command_id = kDeliverSm;
  p.esm_class = kEsmDeliveryReceipt;
  p.short_message = std::move(text);
  return p;
}

TEST(SmppReceipt, ReadsTheAppendixBText) {
  auto r = ParseReceipt(
      DeliverReceipt("id:0123456789 sub:001 dlvrd:001 submit date:2611231200 done date:2611231201 "
                     "stat:DELIVRD err:000 text:Hello"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->message_id, "0123456789");
  EXPECT_EQ(r->state, ReceiptState::kDelivered);
  EXPECT_EQ(r->error, "000");
}

TEST(SmppReceipt, IsLenientAboutCaseSpacingAndOrder) {
  auto r = ParseReceipt(DeliverReceipt("Stat: UNDELIV  ID: ab12 Err:034 Text:x"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->message_id, "ab12");
  EXPECT_EQ(r->state, ReceiptState::kFailed);
  EXPECT_EQ(r->error, "034");
  EXPECT_EQ(ParseReceipt(DeliverReceipt("id:1 stat:EXPIRED"))->state, ReceiptState::kFailed);
  EXPECT_EQ(ParseReceipt(DeliverReceipt("id:1 stat:REJECTD"))->state, ReceiptState::kFailed);
  EXPECT_EQ(ParseReceipt(DeliverReceipt("id:1 stat:ENROUTE"))->state, ReceiptState::kEnroute);
  EXPECT_EQ(ParseReceipt(DeliverReceipt("id:1 stat:ACCEPTD"))->state, ReceiptState::kEnroute);
  EXPECT_EQ(ParseReceipt(DeliverReceipt("id:1 stat:WHATEVER"))->state, ReceiptState::kUnknown);
  // "submit date:" must not be read as an id.
  EXPECT_EQ(ParseReceipt(DeliverReceipt("sub:001 id:77 stat:DELIVRD"))->message_id, "77");
}

TEST(SmppReceipt, TlvsWinOverTheText) {
  Pdu p = DeliverReceipt("id:999 stat:ENROUTE");
  p.tlvs.push_back(Tlv{kTagReceiptedMessageId, std::string("1a2b\0", 5)});
  p.tlvs.push_back(Tlv{kTagMessageState, std::string("\x02", 1)});
  auto r = ParseReceipt(p);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->message_id, "1a2b");
  EXPECT_EQ(r->state, ReceiptState::kDelivered);
  // Only the TLVs, no flag in esm_class, no text.
  Pdu bare;
  bare.command_id = kDeliverSm;
  bare.tlvs.push_back(Tlv{kTagReceiptedMessageId, "55"});
  bare.tlvs.push_back(Tlv{kTagMessageState, std::string("\x05", 1)});
  EXPECT_EQ(ParseReceipt(bare)->state, ReceiptState::kFailed);
}

TEST(SmppReceipt, APhoneMessageIsNotAReceipt) {
  Pdu p;
  p.command_id = kDeliverSm;
  p.short_message = "id: my cat stat: hungry";
  EXPECT_FALSE(ParseReceipt(p));
}

TEST(SmppReceipt, IdFormsCoverHexAndDecimal) {
  auto forms = IdForms("6699");
  EXPECT_NE(std::find(forms.begin(), forms.end(), "1a2b"), forms.end());
  forms = IdForms("1A2B");
  EXPECT_NE(std::find(forms.begin(), forms.end(), "1a2b"), forms.end());
  EXPECT_NE(std::find(forms.begin(), forms.end(), "6699"), forms.end());
  forms = IdForms("000123");
  EXPECT_NE(std::find(forms.begin(), forms.end(), "123"), forms.end());
  EXPECT_EQ(IdForms("not-a-number").size(), 1u);
}

}  // namespace
}  // namespace bluegate::carriers::smpp
