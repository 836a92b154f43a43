// libFuzzer target: an attachment from the internet, compressed as the SMS fallback does it
// (media::ShrinkToFit: our sniffing, then libvips or FFmpeg on whatever the bytes claim to be).
// Whatever the bytes, it answers a file under the limit or an error; it never crashes or hangs.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "media/shrink.h"

// glib and libvips keep their type tables and caches for the process's life by design.
extern "C" const char* __asan_default_options() { return "detect_leaks=0"; }

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string dir = [] {
    std::string d = std::filesystem::temp_directory_path() / ("bluegate-media-fuzz-" + std::to_string(::getpid()));
    std::filesystem::create_directories(d);
    return d;
  }();
  const std::string in = dir + "/in";
  std::ofstream(in, std::ios::binary | std::ios::trunc)
      .write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  constexpr uint64_t kLimit = 4096;
  const bluegate::media::ShrinkLimits limits{.max_image_pixels = 1'000'000, .max_video_seconds = 5};
  auto out = bluegate::media::ShrinkToFit(in, dir + "/out", kLimit, limits);
  if (out.ok() && (out->bytes > kLimit || std::filesystem::file_size(out->path) != out->bytes)) {
    std::abort();
  }
  if (!out.ok() && out.error().message.find(dir) != std::string::npos) std::abort();
  return 0;
}
