// A line's attachments: the size check before a send, and the compressed copy for SMS
// (the LineDriver's media half; line_driver.h).
#include <spdlog/spdlog.h>

#include "queue/line_driver.h"
#include "queue/outcome_policy.h"

namespace bluegate::queue {

// An attachment must fit its service (iMessage 100 MB, SMS 5 MB): its declared size is asked
// with a HEAD request, never downloaded. A size that cannot be told leaves it to the carrier.
// One over SMS's limit on a message going as SMS is compressed to fit (when a shrinker is set).
void LineDriver::CheckMedia(carriers::OutboundMessage msg, Slot slot) {
  if (msg.media_url.empty() || !media_probe_) return SubmitNow(std::move(msg), std::move(slot));
  auto self = shared_from_this();
  const std::string url = msg.media_url;
  media_probe_(url, [self, msg = std::move(msg), slot = std::move(slot)](MediaSize size) mutable {
    self->OnStrand([msg = std::move(msg), size = std::move(size),
                    slot = std::move(slot)](LineDriver& self) mutable {
      if (!self.carrier_) return;
      if (auto error = MediaTooLarge(size.bytes, msg.service.value_or(Service::kIMessage))) {
        // Too large for SMS after falling back from iMessage: downgraded all the same.
        const bool fell_back = msg.service == Service::kSms && self.carrier_->CarriesIMessage();
        if (msg.service == Service::kSms && self.media_shrinker_ &&
            *size.bytes <= kIMessageMediaLimit) {
          return self.Shrink(std::move(msg), std::move(size), fell_back, std::move(slot));
        }
        self.Report(msg.message_id, Status::kError, std::move(error), msg.service,
                    fell_back ? std::optional<bool>(true) : std::nullopt, "media-check");
        return;
      }
      // A downloaded body is not needed: it goes with `size`.
      self.SubmitNow(std::move(msg), std::move(slot));
    });
  });
}

void LineDriver::Shrink(carriers::OutboundMessage msg, MediaSize size, bool fell_back, Slot slot) {
  const uint64_t bytes = *size.bytes;
  ShrinkRequest request{msg.message_id, msg.handle,     msg.account_id,
                        msg.media_url,  kSmsMediaLimit, std::move(size.body)};
  media_shrinker_(
      std::move(request), [self = shared_from_this(), msg = std::move(msg), bytes, fell_back,
                           slot = std::move(slot)](Result<std::string> url) mutable {
        self->OnStrand([msg = std::move(msg), bytes, fell_back, url = std::move(url),
                        slot = std::move(slot)](LineDriver& self) mutable {
          self.OnShrunk(std::move(msg), bytes, fell_back, std::move(url), std::move(slot));
        });
      });
}

// The compressed copy is recorded on the message (its media_url, the app's kept) before the
// carrier gets its URL: a restart then sends the copy, not the original again.
void LineDriver::OnShrunk(carriers::OutboundMessage msg, uint64_t bytes, bool fell_back,
                          Result<std::string> url, Slot slot) {
  if (!carrier_) return;
  if (!url.ok()) {
    if (url.error().kind == ErrorKind::kOverloaded) {
      return Requeue(std::move(msg), url.error().retry_after);
    }
    MessageError error = *MediaTooLarge(bytes, Service::kSms);
    error.message += ", and it could not be compressed to fit: " + url.error().message;
    error.detail = url.error().message;
    Report(msg.message_id, Status::kError, std::move(error), Service::kSms,
           fell_back ? std::optional<bool>(true) : std::nullopt, "media-compress");
    return;
  }
  msg.media_url = *url;
  const int64_t id = msg.message_id;
  auto recorded = [self = shared_from_this(), msg = std::move(msg),
                   slot = std::move(slot)](Result<Ok> r) mutable {
    self->OnStrand(
        [msg = std::move(msg), r = std::move(r), slot = std::move(slot)](LineDriver& self) mutable {
          if (!r.ok()) {
            // The store is failing: the message stays ACCEPTED on disk and resumes after a restart.
            spdlog::error("line {}: cannot record {}'s compressed attachment: {}",
                          self.line_.number, msg.handle, r.error().message);
            return;
          }
          self.SubmitNow(std::move(msg), std::move(slot));
        });
  };
  store_.ReplaceMedia(id, *url, std::move(recorded));
}

}  // namespace bluegate::queue
