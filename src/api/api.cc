#include "api/api.h"

#include <map>
#include <string_view>

#include "api/http_errors.h"
#include "api/request_decoding.h"

namespace bluegate::api {
namespace {

// Paths the official SDK calls that bluegate does not serve yet: 501, so that a caller learns
// the feature is missing rather than that the URL is wrong.
constexpr std::string_view kNotYet[] = {
    "/api/request-location", "/api/location",  "/api/send-carousel", "/api/v2/totp",
    "/api/v2/seats",         "/api/v2/verify", "/api/messages",      "/api/lines/",
};

bool NotYetImplemented(std::string_view path) {
  for (auto p : kNotYet) {
    if (path == p || (path.starts_with(p) && (p.ends_with('/') || path[p.size()] == '/')))
      return true;
  }
  return false;
}

Responder WithRoute(Responder respond, const char* route) {
  return [respond = std::move(respond), route](HttpResponse r) {
    r.route = route;
    respond(std::move(r));
  };
}

}  // namespace

void Api::RecheckStreams() {
  std::map<std::string, std::vector<std::shared_ptr<EventSubscription>>> open;
  {
    std::lock_guard lock(streams_mu_);
    std::erase_if(streams_, [&open](const auto& entry) {
      auto s = entry.second.lock();
      if (!s || s->closed()) return true;
      open[entry.first].push_back(std::move(s));
      return false;
    });
  }
  for (auto& [key, subscriptions] : open) {
    if (auth_.StillAllowed(key)) continue;
    for (auto& s : subscriptions) s->End();
  }
}

void Api::Handle(HttpRequest req, Responder respond) {
  const std::string& path = req.path;
  const std::string& method = req.method;
  if (method == "GET" && path == "/healthz")
    return WithRoute(respond, "/healthz")(HandleHealth(ctx_));
  if (method == "GET" && path == "/readyz") return WithRoute(respond, "/readyz")(HandleReady(ctx_));
  if (method == "GET" && path == "/metrics")
    return WithRoute(respond, "/metrics")(HandleMetrics(ctx_, req));

  if (method == "GET" && path.starts_with("/media/")) {
    return WithRoute(respond, "/media/{file}")(ServeMedia(ctx_, std::string_view(path).substr(7)));
  }
  if (HandleConsole(req, respond)) return;
  // Sendblue's legacy paths outside /api/ that clients still call.
  const bool legacy =
      path.starts_with("/accounts/") || path == "/account" || path == "/modify-group";
  if (!path.starts_with("/api/") && !legacy) {
    return respond(ErrorResponse(Error::NotFound("No route for " + method + " " + path)));
  }
  // A carrier server's events (BlueBubbles' webhooks): authenticated by the token in the URL
  // the carrier registered, not by API keys.
  if (method == "POST" && path.starts_with("/api/v2/carriers/")) {
    const std::string_view rest = std::string_view(path).substr(17);
    const size_t slash = rest.find('/');
    const std::string line(slash == std::string_view::npos ? "" : rest.substr(slash + 1));
    auto query = ParseQuery(req.query);
    return ctx_.outbound.Push(
        line, query["token"], std::move(req.body),
        [respond =
             WithRoute(std::move(respond), "/api/v2/carriers/{carrier}/{line}")](Result<Ok> r) {
          // Every failure answers alike: a caller cannot learn which lines exist.
          if (!r.ok()) {
            return respond(ErrorResponse(
                Error{ErrorKind::kUnauthenticated, "Carrier event refused", std::nullopt, {}}));
          }
          respond(JsonResponse(200, R"({"status":"OK"})"));
        });
  }
  if (auto refused = AdoptSession(req)) {
    refused->route = "unauthenticated";
    return respond(std::move(*refused));
  }
  const std::string key_id(req.Header("sb-api-key-id").value_or(""));
  if (auto wait = throttle_.Blocked(req.remote_address, key_id)) {
    auto r = ErrorResponse(Error{ErrorKind::kThrottled,
                                 "Too many failed authentications from this address with this "
                                 "key id; try again later (auth.max_failures_per_minute)",
                                 ErrorCode::kRateLimitExceeded, *wait});
    r.route = "auth_throttled";
    return respond(std::move(r));
  }
  auto principal = auth_.Authenticate(req);
  if (!principal.ok()) {
    if (principal.error().kind == ErrorKind::kUnauthenticated) {
      throttle_.Failed(req.remote_address, key_id);
    }
    auto r = ErrorResponse(principal.error());
    r.route = "unauthenticated";
    return respond(std::move(r));
  }
  if (!principal->refused.empty()) {
    auto r =
        ErrorResponse(Error{ErrorKind::kUnauthenticated, principal->refused, std::nullopt, {}});
    r.route = "unauthenticated";
    return respond(std::move(r));
  }
  if (ctx_.access_log) {
    respond = [respond = std::move(respond), account = principal->account.id](HttpResponse r) {
      r.account_id = account;
      respond(std::move(r));
    };
  }
  if (auto allowed = limiter_.Take(principal->account.id, method, path); !allowed.ok()) {
    auto r = ErrorResponse(allowed.error());
    r.route = "rate_limited";
    return respond(std::move(r));
  }
  if (method == "POST" && path == "/api/send-message") {
    return HandleSendMessage(ctx_, principal.value(), std::move(req),
                             WithRoute(std::move(respond), "/api/send-message"));
  }
  if (method == "GET" && path == "/api/status") {
    return HandleGetStatus(ctx_, principal.value(), req,
                           WithRoute(std::move(respond), "/api/status"));
  }
  if (method == "GET" && path == "/api/v2/messages") {
    return HandleListMessages(ctx_, principal.value(), req,
                              WithRoute(std::move(respond), "/api/v2/messages"));
  }
  if (method == "GET" && path.starts_with("/api/v2/messages/") && path.size() > 17 &&
      path.find('/', 17) == std::string::npos) {
    return HandleGetMessage(ctx_, principal.value(), std::string_view(path).substr(17),
                            WithRoute(std::move(respond), "/api/v2/messages/{handle}"));
  }
  if (method == "GET" && path == "/api/v2/webhooks/deliveries") {
    return HandleListDeliveries(ctx_, principal.value(), req,
                                WithRoute(std::move(respond), "/api/v2/webhooks/deliveries"));
  }
  if (method == "POST" && path.starts_with("/api/v2/webhooks/deliveries/") &&
      path.ends_with("/retry")) {
    const std::string_view id = std::string_view(path).substr(28, path.size() - 28 - 6);
    return HandleRetryDelivery(
        ctx_, principal.value(), id,
        WithRoute(std::move(respond), "/api/v2/webhooks/deliveries/{id}/retry"));
  }
  if (path == "/api/account/webhooks") {
    return HandleWebhooks(ctx_, principal.value(), req,
                          WithRoute(std::move(respond), "/api/account/webhooks"));
  }
  if (method == "GET" && path == "/api/v2/lines/state") {
    return HandleLinesState(ctx_, principal.value(), req,
                            WithRoute(std::move(respond), "/api/v2/lines/state"));
  }
  if (method == "GET" && path == "/api/v2/nodes") {
    return HandleNodes(ctx_, principal.value(), req,
                       WithRoute(std::move(respond), "/api/v2/nodes"));
  }
  if (method == "GET" && path == "/api/v2/lines/usage") {
    return HandleLinesUsage(ctx_, principal.value(), req,
                            WithRoute(std::move(respond), "/api/v2/lines/usage"));
  }
  if (method == "GET" && path == "/api/lines") {
    return HandleListLines(ctx_, principal.value(), req,
                           WithRoute(std::move(respond), "/api/lines"));
  }
  if (method == "GET" && path == "/api/v2/events") {
    // The stream is remembered under its key, so that revoking the key ends it.
    auto track = [this, key = principal->key_id,
                  respond = WithRoute(std::move(respond), "/api/v2/events")](HttpResponse r) {
      if (r.open_events) {
        r.open_events = [this, key, open = std::move(r.open_events)](std::function<void()> wake) {
          auto s = open(std::move(wake));
          std::lock_guard lock(streams_mu_);
          streams_.emplace_back(key, s);
          return s;
        };
      }
      respond(std::move(r));
    };
    return HandleEvents(ctx_, principal.value(), req, std::move(track));
  }
  if (method == "POST" && path == "/api/upload-file") {
    return HandleUploadFile(ctx_, principal.value(), req,
                            WithRoute(std::move(respond), "/api/upload-file"));
  }
  if (method == "POST" && path == "/api/upload-media-object") {
    return HandleUploadMedia(ctx_, principal.value(), req,
                             WithRoute(std::move(respond), "/api/upload-media-object"));
  }
  if (method == "POST" && path == "/api/send-group-message") {
    return HandleSendGroupMessage(ctx_, principal.value(), std::move(req),
                                  WithRoute(std::move(respond), "/api/send-group-message"));
  }
  if (method == "POST" && path == "/api/modify-group") {
    return HandleModifyGroup(ctx_, principal.value(), req,
                             WithRoute(std::move(respond), "/api/modify-group"));
  }
  if (method == "GET" && path.starts_with("/api/v2/groups/") && path.size() > 15 &&
      path.find('/', 15) == std::string::npos) {
    return HandleGetGroup(ctx_, principal.value(), std::string_view(path).substr(15),
                          WithRoute(std::move(respond), "/api/v2/groups/{id}"));
  }
  if (method == "GET" && path == "/api/evaluate-service") {
    return HandleEvaluateService(ctx_, principal.value(), req,
                                 WithRoute(std::move(respond), "/api/evaluate-service"));
  }
  if (method == "POST" && path == "/api/send-typing-indicator") {
    return HandleSendTyping(ctx_, principal.value(), req,
                            WithRoute(std::move(respond), "/api/send-typing-indicator"));
  }
  if (method == "POST" && path == "/api/mark-read") {
    return HandleMarkRead(ctx_, principal.value(), req,
                          WithRoute(std::move(respond), "/api/mark-read"));
  }
  if (method == "POST" && path == "/api/send-reaction") {
    return HandleSendReaction(ctx_, principal.value(), req,
                              WithRoute(std::move(respond), "/api/send-reaction"));
  }
  if (method == "POST" && path == "/api/v2/sim/inbound") {
    return HandleSimInbound(ctx_, principal.value(), req,
                            WithRoute(std::move(respond), "/api/v2/sim/inbound"));
  }
  if (path == "/api/v2/contacts" || path.starts_with("/api/v2/contacts/")) {
    return HandleContacts(ctx_, principal.value(), req,
                          WithRoute(std::move(respond), "/api/v2/contacts"));
  }
  if (method == "GET" && path == "/accounts/messages") {
    return HandleLegacyListMessages(ctx_, principal.value(), req,
                                    WithRoute(std::move(respond), "/accounts/messages"));
  }
  if (path == "/accounts/contacts" || path.starts_with("/accounts/contacts/")) {
    // The same resource as /api/v2/contacts, at its older address.
    HttpRequest v2 = req;
    v2.path = "/api/v2/contacts" + path.substr(std::string_view("/accounts/contacts").size());
    return HandleContacts(ctx_, principal.value(), v2,
                          WithRoute(std::move(respond), "/accounts/contacts"));
  }
  if (method == "POST" && path == "/modify-group") {
    return HandleModifyGroup(ctx_, principal.value(), req,
                             WithRoute(std::move(respond), "/modify-group"));
  }
  if (method == "GET" && path == "/account") {
    return HandleAccount(ctx_, principal.value(), req, WithRoute(std::move(respond), "/account"));
  }
  if (method == "GET" && path.starts_with("/api/message/") && path.size() > 13 &&
      path.find('/', 13) == std::string::npos) {
    return HandleGetMessage(ctx_, principal.value(), std::string_view(path).substr(13),
                            WithRoute(std::move(respond), "/api/message/{handle}"));
  }
  if (method == "POST" && path == "/accounts/verify-contact-on-shared-account") {
    return HandleVerifyContactOnShared(
        ctx_, principal.value(), req,
        WithRoute(std::move(respond), "/accounts/verify-contact-on-shared-account"));
  }
  if (method == "GET" && path == "/accounts/shared-contacts") {
    return HandleSharedContacts(ctx_, principal.value(), req,
                                WithRoute(std::move(respond), "/accounts/shared-contacts"));
  }
  if (NotYetImplemented(path)) {
    // 404, not 501: Sendblue's clients read 404 as "feature absent" and go on (the official CLI
    // prints warnings for a 501).
    auto r = ErrorResponse(Error{
        ErrorKind::kNotFound,
        method + " " + path + " is part of Sendblue's API but not implemented by bluegate yet",
        std::nullopt,
        {}});
    r.route = "not_implemented";
    return respond(std::move(r));
  }
  respond(ErrorResponse(Error::NotFound("No route for " + method + " " + path)));
}

}  // namespace bluegate::api
