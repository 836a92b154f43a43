// Compressing attachments for SMS (queue::MediaShrinker): each is fetched into a scratch file by
// the process's HTTP client (the address policy applies) unless the size check downloaded it,
// compressed by media/ on a small pool of worker threads, stored as the sending account's media
// (counted in media.max_account_bytes) and served at /media/<handle>-sms.<ext>. The io threads
// never compress.
#pragma once

#include <boost/asio/thread_pool.hpp>

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

#include "api/media_quota.h"
#include "core/metrics.h"
#include "core/result.h"
#include "media/shrink.h"
#include "net/http_client.h"
#include "queue/line_driver.h"

namespace bluegate::app {

struct MediaShrinkerSettings {
  std::string dir;                          // <data_dir>/media
  size_t threads = 1;                       // media.compress_threads
  size_t max_pending = 8;                   // media.max_pending_compressions, fetches included
  std::function<std::string()> public_url;  // "http://host:port" the media URLs start with
  media::ShrinkLimits limits;
};

class MediaShrinker {
 public:
  MediaShrinker(MediaShrinkerSettings settings, net::HttpClient& client, api::MediaQuota& quota,
                Metrics& metrics);
  // Waits for the compressions under way (their answers still go out).
  ~MediaShrinker();
  MediaShrinker(const MediaShrinker&) = delete;
  MediaShrinker& operator=(const MediaShrinker&) = delete;

  // queue::MediaShrinker: at most max_pending at once; more answer kOverloaded (retry in 2 s).
  void Shrink(queue::ShrinkRequest request, std::function<void(Result<std::string>)> done);

 private:
  void Compress(queue::ShrinkRequest request, std::function<void(Result<std::string>)> done);

  const MediaShrinkerSettings settings_;
  net::HttpClient& client_;
  api::MediaQuota& quota_;
  Metrics& metrics_;
  std::atomic<size_t> pending_{0};
  boost::asio::thread_pool pool_;
};

}  // namespace bluegate::app
