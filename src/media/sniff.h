// What a media file is, told from its first bytes (never from its name or a declared type).
#pragma once

#include <string>
#include <string_view>

namespace bluegate::media {

enum class Kind { kImage, kVideo, kOther };

struct Sniffed {
  Kind kind = Kind::kOther;
  std::string format;  // "jpeg", "png", "gif", "webp", "heic", "mp4", "mov"; empty for kOther
};

// `head`: the file's first bytes (32 are enough).
Sniffed SniffBytes(std::string_view head);
// Reads the first bytes of the file at `path`; a file that cannot be read is kOther.
Sniffed SniffFile(const std::string& path);

}  // namespace bluegate::media
