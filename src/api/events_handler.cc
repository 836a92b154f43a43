// GET /api/v2/events: the account's events as server-sent events (text/event-stream), each a
// JSON object {"id","type","occurred_at","data"}, filtered by `types` (comma-separated).
#include "api/api.h"
#include "api/http_errors.h"
#include "api/request_decoding.h"

namespace bluegate::api {

void HandleEvents(ApiContext& ctx, const Principal& principal, const HttpRequest& req,
                  Responder respond) {
  if (!ctx.events) {
    return respond(ErrorResponse(
        Error{ErrorKind::kNotImplemented, "events are not enabled", std::nullopt, {}}));
  }
  std::set<std::string> types;
  auto q = ParseQuery(req.query);
  if (auto it = q.find("types"); it != q.end() && !it->second.empty()) {
    const std::string& list = it->second;
    for (size_t start = 0; start <= list.size();) {
      const size_t comma = list.find(',', start);
      const size_t end = comma == std::string::npos ? list.size() : comma;
      std::string t = list.substr(start, end - start);
      if (!t.empty()) {
        if (!EventHub::Types().count(t)) {
          return respond(ErrorResponse(Error::Invalid(
              "types: unknown event type \"" + t +
              "\"; known: message.created, message.updated, message.received, typing.changed, "
              "line.status.changed, line.blocked, line.assigned, line.unassigned, "
              "contact.created, verification.approved, verification.expired, "
              "verification.canceled")));
        }
        types.insert(std::move(t));
      }
      start = end + 1;
    }
  }
  EventHub* hub = ctx.events;
  // Subscribed now, so that an account over its streams is told before any stream opens.
  auto subscription = hub->Subscribe(principal.account.id, std::move(types), nullptr);
  if (!subscription) {
    return respond(ErrorResponse(Error{
        ErrorKind::kThrottled,
        "This account already has " + std::to_string(hub->limits().max_streams_per_account) +
            " event streams open (events.max_streams_per_account); close one first",
        ErrorCode::kRateLimitExceeded, std::chrono::seconds(5)}));
  }
  HttpResponse r;
  r.status = 200;
  r.content_type = "text/event-stream";
  r.open_events = [subscription](std::function<void()> wake) {
    subscription->SetWake(std::move(wake));
    return subscription;
  };
  r.close_events = [hub](const std::shared_ptr<EventSubscription>& s) { hub->Unsubscribe(s); };
  respond(std::move(r));
}

}  // namespace bluegate::api
