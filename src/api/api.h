// The Sendblue-compatible HTTP API: routing, authentication, and one handler file per resource
// (messages_handler.cc, lines_handler.cc, ops_handler.cc). Start here to find where a path is
// served.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "api/auth.h"
#include "api/auth_throttle.h"
#include "api/console_sessions.h"
#include "api/http_types.h"
#include "api/media_quota.h"
#include "api/rate_limiter.h"
#include "core/clock.h"
#include "core/ids.h"
#include "core/metrics.h"
#include "core/phone.h"
#include "core/send_request.h"
#include "core/url.h"
#include "queue/outbound.h"
#include "store/coordinator.h"
#include "store/store.h"

namespace bluegate::api {

// What a media fetch ended with (the process's HTTP client, net/, does the fetching; wiring
// adapts it).
struct MediaFetchResult {
  std::string error;  // empty: the file is at the path asked for
  uint64_t bytes = 0;
};

struct MediaSettings {
  std::string dir;                            // <data_dir>/media
  uint64_t max_bytes = 100ull * 1024 * 1024;  // the largest upload (iMessage's limit)
  std::function<std::string()> public_url;    // "http://host:port" the media URLs start with
  // GETs a URL into a file, streamed, refusing a body over max_bytes; empty: uploads are off.
  std::function<void(const HttpUrl&, uint64_t, std::string, std::function<void(MediaFetchResult)>)>
      fetch;
  MediaQuota* quota = nullptr;  // where uploads live and the bytes per account (required)
};

// Bounds on what one account or client may hold through the API (docs/security.md).
struct ApiLimits {
  size_t webhooks_per_type = 100;
  size_t webhooks_per_account = 500;
  int auth_failures_per_minute = 10;  // per client address and key id
  size_t bulk_items = 10'000;         // entries in one bulk contacts request
  std::string metrics_token;          // when set, /metrics asks for "Authorization: Bearer <it>"
};

// The store roles the API uses, by what they serve; a whole store converts to it.
struct ApiStore {
  ApiStore(store::Store& s)  // NOLINT(google-explicit-constructor)
      : accounts(s), log(s), messages(s), deliveries(s), directory(s), contacts(s), webhooks(s) {}
  store::Accounts& accounts;        // authentication
  store::MessageLog& log;           // health (/readyz)
  store::MessageQueries& messages;  // status, history
  store::DeliveryLog& deliveries;   // the webhook delivery log, retries
  store::Directory& directory;      // lines
  store::Contacts& contacts;        // contacts, routes, groups
  store::WebhookConfigs& webhooks;  // account webhooks
};

struct ApiContext {
  ApiStore store;
  queue::Outbound& outbound;
  const PhoneNumbers& phones;
  Clock& clock;
  IdGenerator& ids;
  Metrics& metrics;
  // Hands re-queued webhook deliveries to the dispatcher (wiring connects it).
  std::function<void(std::vector<store::Delivery>)> redeliver;
  MediaSettings media;
  EventHub* events = nullptr;  // GET /api/v2/events; empty: 501
  // Scale-out: the nodes sharing the database, with the leases they hold (GET /api/v2/nodes).
  // Empty: this process is the only node.
  std::function<Result<std::vector<store::NodeInfo>>()> nodes;
  std::function<Result<std::vector<store::LeaseInfo>>()> leases;
  std::string node_id;  // this node's name (scale-out), or empty
  // Scale-out: when another node drives `line`, sends the request there (once) and answers with
  // its answer; false: this node answers. Calls that need the line's carrier (typing, read
  // receipts, reactions, service lookups) go through it. Empty: one node.
  std::function<bool(const std::string& line, const HttpRequest& req, const Responder& respond)>
      forward;
  ApiLimits limits;
  bool access_log = false;      // answers carry their account, for the access log
  bool console_enabled = true;  // [console] enabled: the web console at / and /console/
  ConsoleSessionSettings console;
  std::string console_operator_token;  // [console] operator_token; empty: no operator sign-in
};

class Api {
 public:
  Api(ApiContext ctx, std::vector<RateRule> rate_rules)
      : ctx_(ctx),
        auth_(ctx.store.accounts, ctx.clock),
        throttle_(ctx.clock, ctx.limits.auth_failures_per_minute),
        limiter_(std::move(rate_rules), ctx.clock),
        sessions_(ctx.console, ctx.clock, ctx.ids) {}
  // Serves one request; `respond` is called exactly once, possibly from the store's thread.
  void Handle(HttpRequest req, Responder respond);
  // Ends the open event streams whose key no longer authenticates (revoked, or its account
  // disabled). The wiring calls it every second. Thread-safe.
  void RecheckStreams();
  // The configuration's [rate_limits] changed (SIGHUP). Thread-safe.
  void ReplaceRateRules(std::vector<RateRule> rules) { limiter_.Replace(std::move(rules)); }

 private:
  // The console (console_handler.cc): true when `req` was one of its routes and is answered.
  bool HandleConsole(HttpRequest& req, Responder& respond);
  HttpResponse Login(const HttpRequest& req);
  HttpResponse SessionInfo(HttpRequest& req);
  // /console/operator/... for an operator's session (console_operator.cc).
  HttpResponse HandleOperator(const HttpRequest& req, const ConsoleSession& session);
  // A console session's cookie on an API route: adds the session's key to `req`, or answers
  // why not (the session ended; a change without its CSRF token).
  std::optional<HttpResponse> AdoptSession(HttpRequest& req);

  ApiContext ctx_;
  Authenticator auth_;
  AuthThrottle throttle_;
  RateLimiter limiter_;
  ConsoleSessions sessions_;
  std::mutex streams_mu_;
  // Open event streams by the key that opened them (RecheckStreams); gone ones are pruned.
  std::vector<std::pair<std::string, std::weak_ptr<EventSubscription>>> streams_;
};

// A 1:1 send as send-message makes it: the line it goes from (Outbound::LineFor), then
// Outbound::Submit (`verification`: the message asks the contact to verify, so a shared line may
// send it). `done` gets the stored message or why not; it may run on the store's writer thread.
void SubmitOutbound(ApiContext& ctx, const Principal& principal, ValidSend send, bool verification,
                    std::function<void(Result<Message>)> done);

// A new outbound message (QUEUED, stamped now) on `line` from a validated send.
Message NewOutboundMessage(ApiContext& ctx, const Principal& principal, const std::string& line,
                           ValidSend send);

// Handlers, each in its resource's file. `principal` is the authenticated caller.
void HandleSendMessage(ApiContext& ctx, const Principal& principal, HttpRequest req,
                       Responder respond);
void HandleGetStatus(ApiContext& ctx, const Principal& principal, const HttpRequest& req,
                     Responder respond);
void HandleListMessages(ApiContext& ctx, const Principal& principal, const HttpRequest& req,
                        Responder respond);
// GET /accounts/messages (the legacy path): the same filters, the page under "messages".
void HandleLegacyListMessages(ApiContext& ctx, const Principal& principal, const HttpRequest& req,
                              Responder respond);
void HandleGetMessage(ApiContext& ctx, const Principal& principal, std::string_view handle,
                      Responder respond);
void HandleListDeliveries(ApiContext& ctx, const Principal& principal, const HttpRequest& req,
                          Responder respond);
void HandleRetryDelivery(ApiContext& ctx, const Principal& principal, std::string_view id,
                         Responder respond);
void HandleWebhooks(ApiContext& ctx, const Principal& principal, const HttpRequest& req,
                    Responder respond);
void HandleLinesState(ApiContext& ctx, const Principal& principal, const HttpRequest& req,
                      Responder respond);
void HandleLinesUsage(ApiContext& ctx, const Principal& principal, const HttpRequest& req,
                      Responder respond);
void HandleNodes(ApiContext& ctx, const Principal& principal, const HttpRequest& req,
                 Responder respond);
void HandleListLines(ApiContext& ctx, const Principal& principal, const HttpRequest& req,
                     Responder respond);
// In media_handler.cc: uploads, and the files they keep (unauthenticated, like a CDN URL).
void HandleUploadMedia(ApiContext& ctx, const Principal& principal, const HttpRequest& req,
                       Responder respond);
// POST /api/upload-file: the form field `file` of a multipart/form-data body.
void HandleUploadFile(ApiContext& ctx, const Principal& principal, const HttpRequest& req,
                      Responder respond);
HttpResponse ServeMedia(ApiContext& ctx, std::string_view file);
// GET /api/v2/events: server-sent events (events_handler.cc).
void HandleEvents(ApiContext& ctx, const Principal& principal, const HttpRequest& req,
                  Responder respond);
// In groups_handler.cc.
void HandleSendGroupMessage(ApiContext& ctx, const Principal& principal, HttpRequest req,
                            Responder respond);
void HandleModifyGroup(ApiContext& ctx, const Principal& principal, const HttpRequest& req,
                       Responder respond);
void HandleGetGroup(ApiContext& ctx, const Principal& principal, std::string_view id,
                    Responder respond);
// In conversation_handler.cc: the carrier lookup and what is shown to a contact besides messages.
void HandleEvaluateService(ApiContext& ctx, const Principal& principal, const HttpRequest& req,
                           Responder respond);
void HandleSendTyping(ApiContext& ctx, const Principal& principal, const HttpRequest& req,
                      Responder respond);
void HandleMarkRead(ApiContext& ctx, const Principal& principal, const HttpRequest& req,
                    Responder respond);
void HandleSendReaction(ApiContext& ctx, const Principal& principal, const HttpRequest& req,
                        Responder respond);
// POST /api/v2/sim/inbound: a simulated inbound message on a simulator line.
void HandleSimInbound(ApiContext& ctx, const Principal& principal, const HttpRequest& req,
                      Responder respond);
// GET /account (lines_handler.cc): the account the keys belong to, as the official CLI's
// `status` and key check read it.
void HandleAccount(ApiContext& ctx, const Principal& principal, const HttpRequest& req,
                   Responder respond);
// In shared_contacts_handler.cc: the official CLI's free-plan contact routes.
void HandleVerifyContactOnShared(ApiContext& ctx, const Principal& principal,
                                 const HttpRequest& req, Responder respond);
void HandleSharedContacts(ApiContext& ctx, const Principal& principal, const HttpRequest& req,
                          Responder respond);
// Everything under /api/v2/contacts.
void HandleContacts(ApiContext& ctx, const Principal& principal, const HttpRequest& req,
                    Responder respond);
HttpResponse HandleHealth(ApiContext& ctx);
HttpResponse HandleReady(ApiContext& ctx);
// With limits.metrics_token set, only "Authorization: Bearer <token>" is answered.
HttpResponse HandleMetrics(ApiContext& ctx, const HttpRequest& req);

}  // namespace bluegate::api
