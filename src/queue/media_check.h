// What a line driver asks of the process about a message's attachment (app/wiring.cc provides
// both): its size, and a copy small enough for SMS.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "core/result.h"

namespace bluegate::queue {

// A file an attachment was downloaded to, deleted with its last holder.
class DownloadedMedia {
 public:
  explicit DownloadedMedia(std::string path) : path_(std::move(path)) {}
  ~DownloadedMedia() {
    std::error_code ec;
    std::filesystem::remove(path_, ec);
  }
  DownloadedMedia(const DownloadedMedia&) = delete;
  DownloadedMedia& operator=(const DownloadedMedia&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// What a media URL's size check found: the size (when it could be told) or why not, and, when
// the check had to download it (no size declared), the downloaded file, so that a compression
// does not fetch it again.
struct MediaSize {
  std::optional<uint64_t> bytes;
  std::string error;
  std::shared_ptr<DownloadedMedia> body;
};

// The size a media URL declares (a HEAD request), or the size of a bounded download when it
// declares none. `done` may run on any thread.
using MediaProbe =
    std::function<void(const std::string& url, std::function<void(MediaSize size)> done)>;

// An attachment over SMS's limit on a message that goes as SMS: a copy of it that fits `limit`.
struct ShrinkRequest {
  int64_t message_id = 0;
  std::string handle;
  int64_t account_id = 0;
  std::string media_url;
  uint64_t limit = 0;
  std::shared_ptr<DownloadedMedia> body;  // the attachment already downloaded, or null: fetch it
};
// Makes the copy and answers its URL, or why it cannot (kOverloaded: every compressor is busy,
// ask again after retry_after). `done` may run on any thread.
using MediaShrinker =
    std::function<void(ShrinkRequest request, std::function<void(Result<std::string> url)> done)>;

}  // namespace bluegate::queue
