#include "carriers/smpp/text.h"

#include <array>

#include "core/text.h"

namespace bluegate::carriers::smpp {
namespace {

constexpr char32_t kReplacement = 0xFFFD;
constexpr uint8_t kEscape = 0x1B;

// The GSM 03.38 default alphabet, by septet (0x1B is the escape to the extension table).
constexpr std::array<char32_t, 128> kGsmBasic = {
    U'@', U'£', U'$', U'¥', U'è', U'é', U'ù', U'ì', U'ò', U'Ç',  U'\n', U'Ø', U'ø',   U'\r', U'Å',
    U'å', U'Δ', U'_', U'Φ', U'Γ', U'Λ', U'Ω', U'Π', U'Ψ', U'Σ',  U'Θ',  U'Ξ', 0x00A0, U'Æ',  U'æ',
    U'ß', U'É', U' ', U'!', U'"', U'#', U'¤', U'%', U'&', U'\'', U'(',  U')', U'*',   U'+',  U',',
    U'-', U'.', U'/', U'0', U'1', U'2', U'3', U'4', U'5', U'6',  U'7',  U'8', U'9',   U':',  U';',
    U'<', U'=', U'>', U'?', U'¡', U'A', U'B', U'C', U'D', U'E',  U'F',  U'G', U'H',   U'I',  U'J',
    U'K', U'L', U'M', U'N', U'O', U'P', U'Q', U'R', U'S', U'T',  U'U',  U'V', U'W',   U'X',  U'Y',
    U'Z', U'Ä', U'Ö', U'Ñ', U'Ü', U'§', U'¿', U'a', U'b', U'c',  U'd',  U'e', U'f',   U'g',  U'h',
    U'i', U'j', U'k', U'l', U'm', U'n', U'o', U'p', U'q', U'r',  U's',  U't', U'u',   U'v',  U'w',
    U'x', U'y', U'z', U'ä', U'ö', U'ñ', U'ü', U'à'};

// The extension table: the septet after an escape, and the character it stands for.
constexpr std::array<std::pair<uint8_t, char32_t>, 10> kGsmExtension = {{
    {0x0A, U'\f'},
    {0x14, U'^'},
    {0x28, U'{'},
    {0x29, U'}'},
    {0x2F, U'\\'},
    {0x3C, U'['},
    {0x3D, U'~'},
    {0x3E, U']'},
    {0x40, U'|'},
    {0x65, U'€'},
}};

// The septet(s) for a character: one, two (escape + extension) or none.
int GsmSeptets(char32_t c, uint8_t out[2]) {
  if (c < 0x80 && c != 0x1B) {
    // The common case first: ASCII letters and digits sit where ASCII puts them.
    if ((c >= U'A' && c <= U'Z') || (c >= U'a' && c <= U'z') || (c >= U'0' && c <= U'9') ||
        c == U' ') {
      out[0] = static_cast<uint8_t>(c);
      return 1;
    }
  }
  for (size_t i = 0; i < kGsmBasic.size(); ++i) {
    if (kGsmBasic[i] == c && i != kEscape) {
      out[0] = static_cast<uint8_t>(i);
      return 1;
    }
  }
  for (const auto& [septet, ch] : kGsmExtension) {
    if (ch == c) {
      out[0] = kEscape;
      out[1] = septet;
      return 2;
    }
  }
  return 0;
}

// Decodes one UTF-8 character at `i`, advancing it; malformed input reads as U+FFFD.
char32_t NextCodePoint(std::string_view s, size_t& i) {
  const Utf8Char c = DecodeUtf8At(s, i);
  i += c.length;
  return c.valid ? c.code : kReplacement;
}

void AppendUtf8(std::string& out, char32_t c) {
  if (c < 0x80) {
    out += static_cast<char>(c);
  } else if (c < 0x800) {
    out += static_cast<char>(0xC0 | (c >> 6));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else if (c < 0x10000) {
    out += static_cast<char>(0xE0 | (c >> 12));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (c >> 18));
    out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  }
}

// Splits `units` (whole characters, each one or two code units of `unit_size` octets) into
// chunks of at most `per_part` code units, never splitting a character.
std::vector<std::string> Chunk(const std::vector<std::string>& chars, size_t per_part,
                               size_t unit_size) {
  std::vector<std::string> parts(1);
  size_t used = 0;
  for (const auto& ch : chars) {
    const size_t units = ch.size() / unit_size;
    if (used + units > per_part) {
      parts.emplace_back();
      used = 0;
    }
    parts.back() += ch;
    used += units;
  }
  return parts;
}

// Each character of `utf8` in GSM septets, or nullopt if one has none.
std::optional<std::vector<std::string>> GsmChars(std::string_view utf8) {
  std::vector<std::string> chars;
  chars.reserve(utf8.size());
  for (size_t i = 0; i < utf8.size();) {
    uint8_t s[2];
    const int n = GsmSeptets(NextCodePoint(utf8, i), s);
    if (n == 0) return std::nullopt;
    chars.emplace_back(reinterpret_cast<const char*>(s), static_cast<size_t>(n));
  }
  return chars;
}

std::vector<std::string> Ucs2Chars(std::string_view utf8) {
  std::vector<std::string> chars;
  for (size_t i = 0; i < utf8.size();) {
    char32_t c = NextCodePoint(utf8, i);
    std::string& out = chars.emplace_back();
    auto put = [&out](char32_t u) {
      out += static_cast<char>(u >> 8);
      out += static_cast<char>(u & 0xFF);
    };
    if (c >= 0x10000) {
      c -= 0x10000;
      put(0xD800 + (c >> 10));
      put(0xDC00 + (c & 0x3FF));
    } else {
      put(c);
    }
  }
  return chars;
}

size_t TotalSize(const std::vector<std::string>& chars) {
  size_t n = 0;
  for (const auto& c : chars) n += c.size();
  return n;
}

constexpr size_t kMaxParts = 255;

}  // namespace

std::optional<std::string> EncodeGsm(std::string_view utf8) {
  auto chars = GsmChars(utf8);
  if (!chars) return std::nullopt;
  std::string out;
  out.reserve(TotalSize(*chars));
  for (const auto& c : *chars) out += c;
  return out;
}

std::string DecodeGsm(std::string_view septets) {
  std::string out;
  out.reserve(septets.size());
  for (size_t i = 0; i < septets.size(); ++i) {
    const uint8_t s = static_cast<uint8_t>(septets[i]) & 0x7F;
    if (s == kEscape && i + 1 < septets.size()) {
      const uint8_t e = static_cast<uint8_t>(septets[++i]) & 0x7F;
      char32_t c = kGsmBasic[e];
      for (const auto& [septet, ch] : kGsmExtension) {
        if (septet == e) c = ch;
      }
      AppendUtf8(out, c);
      continue;
    }
    AppendUtf8(out, s == kEscape ? U' ' : kGsmBasic[s]);
  }
  return out;
}

std::string EncodeUcs2(std::string_view utf8) {
  std::string out;
  for (const auto& c : Ucs2Chars(utf8)) out += c;
  return out;
}

std::string DecodeUcs2(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  for (size_t i = 0; i + 1 < bytes.size(); i += 2) {
    char32_t u = (static_cast<uint8_t>(bytes[i]) << 8) | static_cast<uint8_t>(bytes[i + 1]);
    if (u >= 0xD800 && u <= 0xDBFF && i + 3 < bytes.size()) {
      const char32_t lo =
          (static_cast<uint8_t>(bytes[i + 2]) << 8) | static_cast<uint8_t>(bytes[i + 3]);
      if (lo >= 0xDC00 && lo <= 0xDFFF) {
        u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
        i += 2;
      } else {
        u = kReplacement;
      }
    } else if (u >= 0xD800 && u <= 0xDFFF) {
      u = kReplacement;
    }
    AppendUtf8(out, u);
  }
  return out;
}

std::string DecodeLatin1(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  for (char b : bytes) AppendUtf8(out, static_cast<uint8_t>(b));
  return out;
}

std::string DecodeText(uint8_t data_coding, std::string_view bytes) {
  switch (data_coding) {
    case kCodingUcs2:
      return DecodeUcs2(bytes);
    case kCodingLatin1:
      return DecodeLatin1(bytes);
    case kCodingIa5:
      return DecodeLatin1(bytes);  // ASCII is Latin-1's first half
    default:
      return DecodeGsm(bytes);
  }
}

std::optional<EncodedText> EncodeForSms(std::string_view utf8, uint8_t reference) {
  EncodedText out;
  std::vector<std::string> chars;
  size_t single = 160, per_part = 153, unit = 1;
  if (auto gsm = GsmChars(utf8)) {
    chars = std::move(*gsm);
  } else {
    chars = Ucs2Chars(utf8);
    out.data_coding = kCodingUcs2;
    single = 70;
    per_part = 67;
    unit = 2;
  }
  const size_t units = TotalSize(chars) / unit;
  if (units <= single) {
    std::string payload;
    for (const auto& c : chars) payload += c;
    out.segments.push_back(Segment{std::move(payload), false});
    return out;
  }
  auto parts = Chunk(chars, per_part, unit);
  if (parts.size() > kMaxParts) return std::nullopt;
  for (size_t i = 0; i < parts.size(); ++i) {
    std::string payload{0x05,
                        0x00,
                        0x03,
                        static_cast<char>(reference),
                        static_cast<char>(parts.size()),
                        static_cast<char>(i + 1)};
    payload += parts[i];
    out.segments.push_back(Segment{std::move(payload), true});
  }
  return out;
}

int CountSegments(std::string_view utf8) {
  auto e = EncodeForSms(utf8, 0);
  return e ? static_cast<int>(e->segments.size()) : 0;
}

std::optional<std::pair<std::optional<Concatenation>, size_t>> ReadUdh(std::string_view payload) {
  if (payload.empty()) return std::nullopt;
  const size_t udhl = static_cast<uint8_t>(payload[0]);
  if (udhl + 1 > payload.size()) return std::nullopt;
  std::optional<Concatenation> concat;
  for (size_t i = 1; i < udhl + 1;) {
    if (i + 2 > udhl + 1) return std::nullopt;
    const uint8_t iei = static_cast<uint8_t>(payload[i]);
    const size_t len = static_cast<uint8_t>(payload[i + 1]);
    if (i + 2 + len > udhl + 1) return std::nullopt;
    const auto* d = reinterpret_cast<const uint8_t*>(payload.data() + i + 2);
    if (iei == 0x00 && len == 3) {
      concat = Concatenation{d[0], d[1], d[2]};
    } else if (iei == 0x08 && len == 4) {
      concat = Concatenation{static_cast<uint16_t>((d[0] << 8) | d[1]), d[2], d[3]};
    }
    i += 2 + len;
  }
  if (concat && (concat->total == 0 || concat->index == 0 || concat->index > concat->total)) {
    concat.reset();  // a header no phone would send: read the part as a message of its own
  }
  return std::pair{concat, udhl + 1};
}

std::optional<std::string> Reassembler::Add(const std::string& from, const Concatenation& c,
                                            std::string text, TimePoint now) {
  if (c.total <= 1) return text;
  auto key = std::tuple{from, c.reference, c.total};
  Pending& p = parts_[key];
  if (p.parts.empty()) {
    p.total = c.total;
    p.first = now;
  }
  p.parts.emplace(c.index, std::move(text));
  if (p.parts.size() < p.total) return std::nullopt;
  std::string whole;
  for (auto& [i, part] : p.parts) whole += part;
  parts_.erase(key);
  return whole;
}

std::vector<std::pair<std::string, std::string>> Reassembler::Expire(TimePoint now,
                                                                     Millis max_age) {
  std::vector<std::pair<std::string, std::string>> out;
  for (auto it = parts_.begin(); it != parts_.end();) {
    if (now - it->second.first < max_age) {
      ++it;
      continue;
    }
    std::string text;
    uint8_t expect = 1;
    for (auto& [i, part] : it->second.parts) {
      if (i != expect) text += "…";
      text += part;
      expect = static_cast<uint8_t>(i + 1);
    }
    if (expect <= it->second.total) text += "…";
    out.emplace_back(std::get<0>(it->first), std::move(text));
    it = parts_.erase(it);
  }
  return out;
}

}  // namespace bluegate::carriers::smpp
