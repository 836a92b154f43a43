// The two encoders behind ShrinkToFit (shrink.h), one per kind of media.
#pragma once

#include <cstdint>
#include <string>

#include "core/result.h"
#include "media/shrink.h"
#include "media/sniff.h"

namespace bluegate::media {

// libvips: a still image becomes a JPEG (transparency on white), a GIF stays an animated GIF;
// scaled down (never up) until it fits.
Result<Shrunk> ShrinkImage(const std::string& in, const Sniffed& what, const std::string& out_stem,
                           uint64_t limit, const ShrinkLimits& limits);

// FFmpeg: H.264 in MP4 at the bitrate the limit allows over the video's duration (at most
// 1280 pixels wide, smaller when the bitrate is low); AAC or MP3 audio is copied as it is, other
// audio is dropped.
Result<Shrunk> ShrinkVideo(const std::string& in, const Sniffed& what, const std::string& out_stem,
                           uint64_t limit, const ShrinkLimits& limits);

}  // namespace bluegate::media
