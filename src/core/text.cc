#include "core/text.h"


namespace bluegate {
Utf8Char DecodeUtf8At(std::string_view s, size_t i) {
  Utf8Char out;
  out.code = 0xFFFD;
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) return Utf8Char{b0, 1, true};
  size_t extra;
  char32_t cp;
  if ((b0 & 0xE0) == 0xC0) {
    extra = 1;
    cp = b0 & 0x1F;
  } else if ((b0 & 0xF0) == 0xE0) {
    extra = 2;
    cp = b0 & 0x0F;
  } else if ((b0 & 0xF8) == 0xF0) {
    extra = 3;
    cp = b0 & 0x07;
  } else {
    return out;
  }
  for (size_t k = 1; k <= extra; ++k) {
    if (i + k >= s.size() || (static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return out;
    cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    out.length = k + 1;
  }
  static constexpr char32_t kMin[] = {0, 0x80, 0x800, 0x10000};
  if (cp < kMin[extra] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return out;
  return Utf8Char{cp, extra + 1, true};
}


bool IsHeaderSafe(std::string_view value) {
  for (char c : value) {
    const auto b = static_cast<unsigned char>(c);
    if ((b < 0x20 && b != '\t') || b == 0x7f) return false;
  }
  return true;
}

bool IsValidUtf8(std::string_view text) {
  for (size_t i = 0; i < text.size();) {
    const Utf8Char c = DecodeUtf8At(text, i);
    if (!c.valid) return false;
    i += c.length;
  }
  return true;
}

std::string ForLog(std::string_view text, size_t max) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  const bool cut = text.size() > max;
  if (cut) text = text.substr(0, max);
  for (size_t i = 0; i < text.size();) {
    const Utf8Char c = DecodeUtf8At(text, i);
    const auto b = static_cast<unsigned char>(text[i]);
    if (!c.valid || (c.length == 1 && (b < 0x20 || b == 0x7f || b == '\\'))) {
      out += "\\x";
      out += kHex[b >> 4];
      out += kHex[b & 15];
      ++i;
      continue;
    }
    out.append(text.substr(i, c.length));
    i += c.length;
  }
  if (cut) out += "...";
  return out;
}

}  // namespace bluegate
