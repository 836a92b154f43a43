#include "app/media_shrinker.h"

#include <boost/asio/post.hpp>

#include <chrono>
#include <filesystem>

#include <spdlog/spdlog.h>

#include "core/ids.h"
#include "core/url.h"
#include "queue/outcome_policy.h"

namespace bluegate::app {
namespace {

Error Refused(std::string why) { return Error{ErrorKind::kRejected, std::move(why), {}, {}}; }

}  // namespace

MediaShrinker::MediaShrinker(MediaShrinkerSettings settings, net::HttpClient& client,
                             api::MediaQuota& quota, Metrics& metrics)
    : settings_(std::move(settings)),
      client_(client),
      quota_(quota),
      metrics_(metrics),
      pool_(std::max<size_t>(1, settings_.threads)) {}

MediaShrinker::~MediaShrinker() { pool_.join(); }

void MediaShrinker::Shrink(queue::ShrinkRequest request,
                           std::function<void(Result<std::string>)> done) {
  if (pending_.fetch_add(1) >= settings_.max_pending) {
    pending_.fetch_sub(1);
    return done(Error{ErrorKind::kOverloaded,
                      "every compressor is busy (media.max_pending_compressions)",
                      {},
                      std::chrono::seconds(2)});
  }
  if (request.body) {  // the size check downloaded it already
    return boost::asio::post(
        pool_, [this, request = std::move(request), done = std::move(done)]() mutable {
          Compress(std::move(request), std::move(done));
        });
  }
  auto url = ParseHttpUrl(request.media_url);
  if (!url) {
    pending_.fetch_sub(1);
    return done(Refused("the attachment's URL is not http(s)"));
  }
  std::error_code ec;
  std::filesystem::create_directories(settings_.dir, ec);
  request.body = std::make_shared<queue::DownloadedMedia>(settings_.dir + "/.compress-" +
                                                          SecureIds().RandomHex(8));
  const std::string path = request.body->path();
  client_.Fetch(
      *url, queue::kIMessageMediaLimit, path,
      [this, request = std::move(request), done = std::move(done)](net::FetchResult r) mutable {
        if (!r.error.empty() || r.too_large) {
          request.body.reset();
          pending_.fetch_sub(1);
          return done(
              Refused(r.too_large ? "it is over 100 MB" : "it could not be fetched: " + r.error));
        }
        boost::asio::post(pool_,
                          [this, request = std::move(request), done = std::move(done)]() mutable {
                            Compress(std::move(request), std::move(done));
                          });
      });
}

void MediaShrinker::Compress(queue::ShrinkRequest request,
                             std::function<void(Result<std::string>)> done) {
  const std::string scratch = request.body->path();
  const auto started = std::chrono::steady_clock::now();
  // Named after the message: compressing it again (after a restart) writes the same file.
  const std::string stem = request.handle + "-sms";
  Result<std::string> answer =
      Refused("the account's media storage is full (media.max_account_bytes)");
  if (auto slot = quota_.Claim(request.account_id, settings_.dir, request.limit, request.limit)) {
    auto made =
        media::ShrinkToFit(scratch, slot->folder() + "/" + stem, request.limit, settings_.limits);
    if (made.ok()) {
      const std::string name = stem + "." + made->ext;
      slot->Keep(name, made->bytes);
      spdlog::info("message {}: attachment compressed for SMS: {} ({} bytes)", request.handle,
                   made->description, made->bytes);
      answer = settings_.public_url() + "/media/" + name;
    } else {
      answer = made.error();
    }
  }
  request.body.reset();  // the download is deleted
  const auto took = std::chrono::duration_cast<Millis>(std::chrono::steady_clock::now() - started);
  metrics_.CountMediaCompression(answer.ok(), took);
  if (!answer.ok()) {
    spdlog::info("message {}: attachment not compressed for SMS: {}", request.handle,
                 answer.error().message);
  }
  pending_.fetch_sub(1);
  done(std::move(answer));
}

}  // namespace bluegate::app
