#include "carriers/smpp/text.h"

#include <gtest/gtest.h>

namespace bluegate::carriers::smpp {
namespace {

TEST(SmppText, GsmCoversTheDefaultAlphabetAndItsExtension) {
  auto e = EncodeGsm("Hello @£$ Ünïcode? no");
  EXPECT_FALSE(e);  // ï is not in GSM 03.38
  e = EncodeGsm("Hi @ £5 {€}");
  ASSERT_TRUE(e);
  EXPECT_EQ(*e, std::string("Hi \x00 \x01"
                            "5 \x1b\x28\x1b\x65\x1b\x29",
                            14));
  EXPECT_EQ(DecodeGsm(*e), "Hi @ £5 {€}");
  EXPECT_EQ(DecodeGsm(*EncodeGsm("ÄÖÑÜ§¿äöñüà_ΔΩ\n")), "ÄÖÑÜ§¿äöñüà_ΔΩ\n");
}

TEST(SmppText, Ucs2CarriesEverythingElseIncludingEmoji) {
  const std::string text = "Привет 👋";
  const std::string ucs2 = EncodeUcs2(text);
  EXPECT_EQ(ucs2.size(), 2u * 7 + 4);  // seven BMP characters and one surrogate pair
  EXPECT_EQ(DecodeUcs2(ucs2), text);
  EXPECT_EQ(DecodeText(kCodingUcs2, ucs2), text);
  EXPECT_EQ(DecodeText(kCodingLatin1, "caf\xe9"), "café");
  // A lone surrogate does not make invalid UTF-8.
  EXPECT_EQ(DecodeUcs2(std::string("\xd8\x00\x00\x41", 4)),
            "\xEF\xBF\xBD"
            "A");
}

TEST(SmppText, ShortTextsTakeOneSegment) {
  auto e = EncodeForSms(std::string(160, 'a'), 1);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->data_coding, kCodingDefault);
  ASSERT_EQ(e->segments.size(), 1u);
  EXPECT_FALSE(e->segments[0].udh);
  EXPECT_EQ(CountSegments(std::string(70, 'a') + "é"), 1);  // é is GSM
  EXPECT_EQ(CountSegments("ï" + std::string(69, 'a')), 1);  // 70 UCS-2 units
  EXPECT_EQ(CountSegments("ï" + std::string(70, 'a')), 2);
}

TEST(SmppText, LongTextsAreConcatenatedWithAUdh) {
  auto e = EncodeForSms(std::string(161, 'a'), 0x2a);
  ASSERT_TRUE(e);
  ASSERT_EQ(e->segments.size(), 2u);
  const std::string& first = e->segments[0].payload;
  EXPECT_TRUE(e->segments[0].udh);
  EXPECT_EQ(first.substr(0, 6), std::string("\x05\x00\x03\x2a\x02\x01", 6));
  EXPECT_EQ(first.size(), 6u + 153);
  EXPECT_EQ(e->segments[1].payload.substr(0, 6), std::string("\x05\x00\x03\x2a\x02\x02", 6));
  EXPECT_EQ(e->segments[1].payload.size(), 6u + 8);
  EXPECT_EQ(CountSegments(std::string(306, 'a')), 2);
  EXPECT_EQ(CountSegments(std::string(307, 'a')), 3);
}

TEST(SmppText, SplitsNeverCutAnEscapeOrASurrogatePair) {
  // 152 letters then '€' (two septets): the escape may not end the first part.
  auto e = EncodeForSms(std::string(152, 'a') + "€" + std::string(10, 'b'), 1);
  ASSERT_TRUE(e);
  ASSERT_EQ(e->segments.size(), 2u);
  EXPECT_EQ(e->segments[0].payload.size(), 6u + 152);
  EXPECT_EQ(e->segments[1].payload.substr(6, 2), "\x1b\x65");
  // 66 UCS-2 units then an emoji (two units): it goes whole into part two.
  auto u = EncodeForSms("ï" + std::string(65, 'a') + "👋" + std::string(10, 'b'), 1);
  ASSERT_TRUE(u);
  EXPECT_EQ(u->data_coding, kCodingUcs2);
  ASSERT_EQ(u->segments.size(), 2u);
  EXPECT_EQ(u->segments[0].payload.size(), 6u + 66 * 2);
  EXPECT_EQ(DecodeUcs2(u->segments[1].payload.substr(6, 4)), "👋");
}

TEST(SmppText, RefusesMoreThan255Parts) {
  EXPECT_FALSE(EncodeForSms(std::string(153 * 255 + 1, 'a'), 1));
  EXPECT_TRUE(EncodeForSms(std::string(153 * 255, 'a'), 1));
  EXPECT_EQ(CountSegments(std::string(153 * 256, 'a')), 0);
}

TEST(SmppText, ReadsUdhWithEightAndSixteenBitReferences) {
  auto u = ReadUdh(std::string("\x05\x00\x03\x07\x03\x02rest", 10));
  ASSERT_TRUE(u);
  ASSERT_TRUE(u->first);
  EXPECT_EQ(u->first->reference, 7);
  EXPECT_EQ(u->first->total, 3);
  EXPECT_EQ(u->first->index, 2);
  EXPECT_EQ(u->second, 6u);
  u = ReadUdh(std::string("\x06\x08\x04\x01\x02\x02\x01xy", 9));
  ASSERT_TRUE(u && u->first);
  EXPECT_EQ(u->first->reference, 0x0102);
  EXPECT_EQ(u->second, 7u);
  EXPECT_FALSE(ReadUdh(std::string("\x09\x00\x03", 3)));            // header past the end
  EXPECT_FALSE(ReadUdh(std::string("\x03\x00\x05\x01", 4)));        // element past the header
  auto odd = ReadUdh(std::string("\x05\x00\x03\x01\x02\x05x", 7));  // part 5 of 2
  ASSERT_TRUE(odd);
  EXPECT_FALSE(odd->first);
}

TEST(SmppText, ReassemblesPartsInAnyOrderAndKeepsIncompleteOnes) {
  Reassembler r;
  const TimePoint t0{};
  EXPECT_FALSE(r.Add("+1", Concatenation{9, 3, 3}, "C", t0));
  EXPECT_FALSE(r.Add("+1", Concatenation{9, 3, 1}, "A", t0));
  EXPECT_FALSE(r.Add("+1", Concatenation{9, 3, 1}, "A", t0));  // a duplicate part
  EXPECT_FALSE(r.Add("+2", Concatenation{9, 3, 1}, "other sender", t0));
  EXPECT_EQ(r.Add("+1", Concatenation{9, 3, 2}, "B", t0).value_or(""), "ABC");
  EXPECT_EQ(r.pending(), 1u);
  EXPECT_TRUE(r.Expire(t0 + Millis(1000), Millis(5000)).empty());
  auto late = r.Expire(t0 + Millis(6000), Millis(5000));
  ASSERT_EQ(late.size(), 1u);
  EXPECT_EQ(late[0].first, "+2");
  EXPECT_EQ(late[0].second, "other sender…");
  EXPECT_EQ(r.pending(), 0u);
}

}  // namespace
}  // namespace bluegate::carriers::smpp
