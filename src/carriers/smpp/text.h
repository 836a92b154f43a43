// Message text on the SMS wire: GSM 03.38 (the default alphabet, one septet per octet as SMPP
// carries it) when every character fits it, UCS-2 (UTF-16BE) otherwise; long texts split into
// concatenated segments with a UDH, and segments from a phone put back together.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "core/clock.h"

namespace bluegate::carriers::smpp {

// SMPP data_coding values this gateway sends or reads.
inline constexpr uint8_t kCodingDefault = 0x00;  // the SMSC's default alphabet: GSM 03.38
inline constexpr uint8_t kCodingIa5 = 0x01;      // IA5 (ASCII)
inline constexpr uint8_t kCodingLatin1 = 0x03;   // ISO-8859-1
inline constexpr uint8_t kCodingUcs2 = 0x08;     // UCS-2, big-endian

// UTF-8 text as GSM 03.38 septets (escape sequences for the extension table), or nullopt when a
// character has no GSM form.
std::optional<std::string> EncodeGsm(std::string_view utf8);
// GSM 03.38 septets as UTF-8; an unknown escape reads as the character after it.
std::string DecodeGsm(std::string_view septets);
// UTF-8 as UTF-16BE (characters beyond the BMP as surrogate pairs). Invalid UTF-8 reads as U+FFFD.
std::string EncodeUcs2(std::string_view utf8);
std::string DecodeUcs2(std::string_view bytes);
std::string DecodeLatin1(std::string_view bytes);
// A short_message in `data_coding` as UTF-8.
std::string DecodeText(uint8_t data_coding, std::string_view bytes);

// One submit_sm's worth of text: the short_message bytes (UDH first when `udh` is set).
struct Segment {
  std::string payload;
  bool udh = false;  // esm_class gets UDHI (0x40)
};

struct EncodedText {
  uint8_t data_coding = kCodingDefault;
  std::vector<Segment> segments;
};

// Splits `utf8` into segments: 160 GSM septets or 70 UCS-2 units fit one; longer texts go in parts
// of 153 septets or 67 units after a 6-octet concatenation UDH with `reference`. An escape
// sequence or a surrogate pair is never split. At most 255 parts: nullopt beyond.
std::optional<EncodedText> EncodeForSms(std::string_view utf8, uint8_t reference);
// How many segments `utf8` takes (what line limits count); 0 when it is too long to send.
int CountSegments(std::string_view utf8);

// A concatenation header's fields, from a short_message that starts with a UDH.
struct Concatenation {
  uint16_t reference = 0;
  uint8_t total = 0;
  uint8_t index = 0;  // 1-based
};
// Reads the UDH at the start of `payload`: its concatenation element (8- or 16-bit reference),
// if any, and the length of the whole header; nullopt when the header is malformed.
std::optional<std::pair<std::optional<Concatenation>, size_t>> ReadUdh(std::string_view payload);

// Collects the parts of concatenated messages from phones until each is whole. Not thread-safe.
class Reassembler {
 public:
  // The whole text once the last part of (from, reference) arrives; nullopt until then. A part
  // seen twice is kept once.
  std::optional<std::string> Add(const std::string& from, const Concatenation& c, std::string text,
                                 TimePoint now);
  // Messages still missing parts after `max_age`: what arrived, joined in order, with "…" where a
  // part is missing, so that nothing a phone sent is dropped. They are forgotten.
  std::vector<std::pair<std::string, std::string>> Expire(TimePoint now, Millis max_age);
  size_t pending() const { return parts_.size(); }

 private:
  struct Pending {
    uint8_t total = 0;
    TimePoint first{};
    std::map<uint8_t, std::string> parts;
  };
  std::map<std::tuple<std::string, uint16_t, uint8_t>, Pending> parts_;
};

}  // namespace bluegate::carriers::smpp
