#include "media/shrink.h"

#include <filesystem>

#include "media/codecs.h"
#include "media/sniff.h"

namespace bluegate::media {
namespace {

// The libraries name the file they failed on; the caller's error names no path of ours.
Error WithoutPath(Error e, const std::string& path) {
  for (size_t at; (at = e.message.find(path)) != std::string::npos;) {
    e.message.replace(at, path.size(), "the file");
  }
  for (char& c : e.message) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return e;
}

}  // namespace

Result<Shrunk> ShrinkToFit(const std::string& in, const std::string& out_stem, uint64_t limit,
                           const ShrinkLimits& limits) {
  const Sniffed what = SniffFile(in);
  Result<Shrunk> made = Error{ErrorKind::kRejected,
                              "only images (JPEG, PNG, HEIC, WebP, GIF) and videos (MP4, MOV) "
                              "can be compressed",
                              {}, {}};
  if (what.kind == Kind::kImage) made = ShrinkImage(in, what, out_stem, limit, limits);
  if (what.kind == Kind::kVideo) made = ShrinkVideo(in, what, out_stem, limit, limits);
  if (!made.ok()) return WithoutPath(made.error(), in);
  return made;
}

}  // namespace bluegate::media
