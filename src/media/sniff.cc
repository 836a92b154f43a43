#include "media/sniff.h"

#include <array>
#include <fstream>

namespace bluegate::media {
namespace {

bool StartsWith(std::string_view s, std::string_view prefix, size_t at = 0) {
  return s.size() >= at + prefix.size() && s.substr(at, prefix.size()) == prefix;
}

// ISO base media files (MP4, QuickTime, HEIF) start with a box: 4 bytes of size, then its type.
Sniffed SniffIsoBox(std::string_view head) {
  if (StartsWith(head, "ftyp", 4) && head.size() >= 12) {
    const std::string_view brand = head.substr(8, 4);
    for (std::string_view b : {"heic", "heix", "hevc", "hevx", "heim", "heis", "mif1", "msf1"}) {
      if (brand == b) return {Kind::kImage, "heic"};
    }
    if (brand == "qt  ") return {Kind::kVideo, "mov"};
    return {Kind::kVideo, "mp4"};  // isom, mp41, mp42, avc1, M4V, 3gp…
  }
  // QuickTime files from before ftyp start with their movie or data box.
  for (std::string_view box : {"moov", "mdat", "wide", "free", "skip"}) {
    if (StartsWith(head, box, 4)) return {Kind::kVideo, "mov"};
  }
  return {};
}

}  // namespace

Sniffed SniffBytes(std::string_view head) {
  if (StartsWith(head, "\xFF\xD8\xFF")) return {Kind::kImage, "jpeg"};
  if (StartsWith(head, "\x89PNG\r\n\x1A\n")) return {Kind::kImage, "png"};
  if (StartsWith(head, "GIF87a") || StartsWith(head, "GIF89a")) return {Kind::kImage, "gif"};
  if (StartsWith(head, "RIFF") && StartsWith(head, "WEBP", 8)) return {Kind::kImage, "webp"};
  return SniffIsoBox(head);
}

Sniffed SniffFile(const std::string& path) {
  std::array<char, 32> buf{};
  std::ifstream in(path, std::ios::binary);
  in.read(buf.data(), buf.size());
  return SniffBytes(std::string_view(buf.data(), static_cast<size_t>(in.gcount())));
}

}  // namespace bluegate::media
