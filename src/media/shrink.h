// Making an attachment fit a size limit (SMS's 5 MB, SPEC §6): images (JPEG, PNG, HEIC, WebP,
// GIF) re-encoded and scaled down with libvips, video (MP4, MOV) re-encoded at a lower bitrate
// with FFmpeg's libraries. Other files cannot be made smaller and fail.
//
// Blocking and CPU-bound (a second or more for a large photo): call it on a worker thread, never
// on the io threads. Thread-safe; each call uses one thread of its own.
#pragma once

#include <cstdint>
#include <string>

#include "core/result.h"

namespace bluegate::media {

struct Shrunk {
  std::string path;          // the file written: `out_stem` + "." + ext
  std::string ext;           // "jpg", "gif", "mp4"
  uint64_t bytes = 0;        // its size, at most the limit
  std::string description;   // how it was made, for the log: "jpeg q80 1632x1224 from png 4000x3000"
};

// Bounds on what one call will decode (a file that exceeds them fails, as a decompression bomb
// would).
struct ShrinkLimits {
  uint64_t max_image_pixels = 100'000'000;  // width × height (× frames for a GIF)
  double max_video_seconds = 600;           // longer videos cannot fit 5 MB watchably
};

// Writes a version of the file at `in` that is at most `limit` bytes to `out_stem`.<ext>, or says
// why it cannot (kRejected: not an image or a video, or no smaller version fits; kInvalidArgument:
// the file is damaged or over `limits`). `in` is left as it was.
Result<Shrunk> ShrinkToFit(const std::string& in, const std::string& out_stem, uint64_t limit,
                           const ShrinkLimits& limits = {});

}  // namespace bluegate::media
