#include <vips/vips8>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <mutex>

#include "media/codecs.h"

namespace bluegate::media {
namespace {

constexpr int kLargestSide = 4096;  // no phone shows more; a smaller start saves a round
constexpr int kSmallestStill = 320;
constexpr int kSmallestGif = 120;
constexpr int kStartQuality = 82;
constexpr int kLowestQuality = 40;
constexpr int kAttempts = 8;

void InitVips() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (VIPS_INIT("bluegate") != 0) return;  // every later call then fails with vips' error
    // Its warnings (a damaged file's, naming our scratch path) would go to stderr: the errors
    // that matter come back as values.
    g_log_set_handler("VIPS", G_LOG_LEVEL_WARNING,
                      [](const gchar*, GLogLevelFlags, const gchar*, gpointer) {}, nullptr);
    vips_cache_set_max(0);    // each file is read once: nothing worth caching
    vips_concurrency_set(1);  // one thread per compression; the pool decides how many run
  });
}

// An encoded image in vips' memory, freed when it goes.
class Blob {
 public:
  explicit Blob(VipsBlob* b) : b_(b) {}
  ~Blob() { vips_area_unref(VIPS_AREA(b_)); }
  Blob(const Blob&) = delete;
  Blob& operator=(const Blob&) = delete;
  const char* data() const { return static_cast<const char*>(VIPS_AREA(b_)->data); }
  uint64_t size() const { return VIPS_AREA(b_)->length; }

 private:
  VipsBlob* b_;
};

Result<Ok> WriteFile(const std::string& path, const Blob& blob) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(blob.data(), static_cast<std::streamsize>(blob.size()));
  out.close();
  if (!out) return Error::Storage("cannot write " + path);
  return Ok{};
}

// The side to try next: scaled by how far over the limit the last try was (the size of an image
// goes roughly with its area), a little under so that the next try is likely the last.
int NextSide(int side, uint64_t got, uint64_t limit, int smallest) {
  double ratio = std::sqrt(static_cast<double>(limit) / static_cast<double>(got)) * 0.92;
  ratio = std::min(ratio, 0.9);
  return std::max(smallest, static_cast<int>(side * ratio));
}

std::string Dims(const vips::VImage& img) {
  return std::to_string(img.width()) + "x" + std::to_string(img.height());
}

Result<Shrunk> Still(const std::string& in, const std::string& format, int width, int height,
                     const std::string& out_stem, uint64_t limit) {
  int side = std::min(std::max(width, height), kLargestSide);
  int quality = kStartQuality;
  uint64_t last = 0;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    vips::VImage img = vips::VImage::thumbnail(
        in.c_str(), side, vips::VImage::option()->set("height", side)->set("size", VIPS_SIZE_DOWN));
    if (img.has_alpha()) {
      img = img.flatten(vips::VImage::option()->set("background", std::vector<double>{255, 255, 255}));
    }
    Blob jpeg(img.jpegsave_buffer(vips::VImage::option()
                                      ->set("Q", quality)
                                      ->set("strip", true)
                                      ->set("optimize_coding", true)));
    last = jpeg.size();
    if (last <= limit) {
      Shrunk out{out_stem + ".jpg", "jpg", last,
                 "jpeg q" + std::to_string(quality) + " " + Dims(img) + " from " + format + " " +
                     std::to_string(width) + "x" + std::to_string(height)};
      if (auto w = WriteFile(out.path, jpeg); !w.ok()) return w.error();
      return out;
    }
    if (side > kSmallestStill) {
      side = NextSide(side, last, limit, kSmallestStill);
    } else if (quality > kLowestQuality) {
      quality = std::max(kLowestQuality, quality - 20);
    } else {
      break;
    }
  }
  return Error{ErrorKind::kRejected,
               "no JPEG of it fits: " + std::to_string(last) + " bytes at " +
                   std::to_string(side) + " pixels and quality " + std::to_string(quality),
               {}, {}};
}

// An animated GIF keeps its frames; fewer colours and smaller frames until it fits.
Result<Shrunk> Animated(const std::string& in, int width, int page_height, int pages,
                        const std::string& out_stem, uint64_t limit) {
  const std::string all_pages = in + "[n=-1]";
  int side = std::min(std::max(width, page_height), kLargestSide);
  int bitdepth = 8;
  uint64_t last = 0;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    vips::VImage img = vips::VImage::thumbnail(
        all_pages.c_str(), side,
        vips::VImage::option()->set("height", side)->set("size", VIPS_SIZE_DOWN));
    Blob gif(img.gifsave_buffer(
        vips::VImage::option()->set("bitdepth", bitdepth)->set("effort", 7)->set("strip", true)));
    last = gif.size();
    if (last <= limit) {
      const int frame_h = vips_image_get_page_height(img.get_image());
      Shrunk out{out_stem + ".gif", "gif", last,
                 "gif " + std::to_string(bitdepth) + "-bit " + std::to_string(img.width()) + "x" +
                     std::to_string(frame_h) + " × " + std::to_string(pages) + " frames from " +
                     std::to_string(width) + "x" + std::to_string(page_height)};
      if (auto w = WriteFile(out.path, gif); !w.ok()) return w.error();
      return out;
    }
    if (side > kSmallestGif) {
      side = NextSide(side, last, limit, kSmallestGif);
      if (bitdepth > 5) --bitdepth;
    } else {
      break;
    }
  }
  return Error{ErrorKind::kRejected,
               "no GIF of its " + std::to_string(pages) + " frames fits: " +
                   std::to_string(last) + " bytes at " + std::to_string(side) + " pixels",
               {}, {}};
}

}  // namespace

Result<Shrunk> ShrinkImage(const std::string& in, const Sniffed& what, const std::string& out_stem,
                           uint64_t limit, const ShrinkLimits& limits) {
  InitVips();
  try {
    const bool gif = what.format == "gif";
    // The header only: nothing is decoded until a thumbnail is asked for.
    vips::VImage head = vips::VImage::new_from_file(
        (gif ? in + "[n=-1]" : in).c_str(),
        vips::VImage::option()->set("access", VIPS_ACCESS_SEQUENTIAL));
    const int width = head.width();
    const int total_height = head.height();
    const uint64_t pixels = static_cast<uint64_t>(width) * static_cast<uint64_t>(total_height);
    if (pixels > limits.max_image_pixels) {
      return Error::Invalid("the image has " + std::to_string(pixels) + " pixels, over the " +
                            std::to_string(limits.max_image_pixels) + " this server decodes");
    }
    const int pages = gif ? std::max(1, vips_image_get_n_pages(head.get_image())) : 1;
    if (gif && pages > 1) {
      return Animated(in, width, vips_image_get_page_height(head.get_image()), pages, out_stem,
                      limit);
    }
    return Still(in, what.format, width, total_height, out_stem, limit);
  } catch (const vips::VError& e) {
    std::string why = e.what();
    while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
    vips_error_clear();
    return Error::Invalid("the " + what.format + " image cannot be read: " + why);
  }
}

}  // namespace bluegate::media
