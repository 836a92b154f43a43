#include "app/wiring.h"

#include <spdlog/spdlog.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <thread>

#include "api/api.h"
#include "api/http_errors.h"
#include "api/http_server.h"
#include "app/event_relay.h"
#include "app/media_shrinker.h"
#include "app/message_pruner.h"
#include "app/reload.h"
#include "carriers/registry.h"
#include "core/event_hub.h"
#include "core/ids.h"
#include "core/metrics.h"
#include "core/phone.h"
#include "core/text.h"
#include "net/http_client.h"
#include "queue/asio_timers.h"
#include "queue/leases.h"
#include "queue/outbound.h"
#include "store/postgres/coordinator.h"
#include "store/postgres/postgres_store.h"
#include "store/sqlite/sqlite_store.h"
#include "webhooks/dispatcher.h"

namespace bluegate::app {

namespace asio = boost::asio;

namespace {

constexpr const char* kDevEmail = "dev@bluegate.local";
constexpr const char* kDevLine = "+14155550100";

// A line whose carrier cannot be built (its options no longer parse): every message to it fails
// with the reason, rather than waiting forever.
class UnavailableCarrier final : public carriers::Carrier {
 public:
  explicit UnavailableCarrier(std::string reason) : reason_(std::move(reason)) {}
  void Submit(carriers::OutboundMessage,
              std::function<void(carriers::SubmitResult)> done) override {
    done(carriers::SubmitResult{carriers::SubmitOutcome::kRejected, reason_, {}});
  }
  void Reconcile(carriers::OutboundMessage,
                 std::function<void(std::optional<carriers::ReconcileResult>)> done) override {
    done(std::nullopt);
  }
  void Lookup(std::string, std::function<void(carriers::LookupResult)> done) override {
    done(carriers::LookupResult{std::nullopt, reason_});
  }
  void Send(carriers::Signal, std::function<void(Result<Ok>)> done) override {
    done(Error{ErrorKind::kRejected, reason_, ErrorCode::kValidation, {}});
  }
  std::string_view name() const override { return "unavailable"; }

 private:
  std::string reason_;
};

}  // namespace

std::optional<std::string> HostName() {
  char name[256] = {0};
  if (::gethostname(name, sizeof name - 1) != 0 || name[0] == '\0') return std::nullopt;
  return std::string(name);
}

// A node's name when none is given: the host's name and the API's port (its process id when the
// port is picked at start).
std::string DefaultNodeId(const Config& config) {
  const auto [address, port] = SplitHostPort(config.listen);
  return HostName().value_or("bluegate") + ":" +
         (port ? std::to_string(port) : "pid" + std::to_string(::getpid()));
}

// Where the other nodes reach this one's API: the listen address, with the host's name in place
// of a wildcard (0.0.0.0, ::).
std::string AdvertisedAddress(const std::string& local) {
  const auto [host, port] = SplitHostPort(local);
  if (host != "0.0.0.0" && host != "::") return local;
  const auto name = HostName();
  return name ? *name + ":" + std::to_string(port) : local;
}

struct Gateway::Parts {
  explicit Parts(const Config& c)
      : events(EventHubLimits{c.events_max_streams_per_account, c.events_max_queued_frames}) {}
  asio::io_context io;
  Metrics metrics;
  EventHub events;
  std::unique_ptr<store::Store> store;
  std::unique_ptr<PhoneNumbers> phones;
  std::unique_ptr<net::HttpClient> http_client;
  std::unique_ptr<net::HttpClient> carrier_http;  // carriers' REST servers
  std::unique_ptr<webhooks::Dispatcher> dispatcher;
  std::unique_ptr<Timers> timers;  // the outbound engine's (lines' pacing and resolve timeouts)
  std::unique_ptr<queue::Outbound> outbound;
  std::unique_ptr<EventRelay> relay;                // events written by admin commands' processes
  std::unique_ptr<MessagePruner> pruner;            // store.message_retention, when set
  std::unique_ptr<store::Coordinator> coordinator;  // scale-out (PostgreSQL) only
  std::unique_ptr<api::MediaQuota> media_quota;
  std::unique_ptr<MediaShrinker> shrinker;            // before the outbound: its drivers call it
  std::unique_ptr<carriers::CarrierEnv> carrier_env;  // what the lines' carriers are made with
  std::unique_ptr<queue::LeaseKeeper> leases;
  std::thread lease_stopper;  // gives the leases up while the io_context still runs
  std::atomic<bool> leases_stopped{false};
  std::unique_ptr<api::Api> api;
  std::unique_ptr<api::HttpServer> server;
  std::unique_ptr<asio::signal_set> signals;
  std::unique_ptr<asio::signal_set> reload;  // SIGHUP
  std::vector<std::thread> threads;
  std::atomic<bool> stopping{false};
  int lock_fd = -1;  // flock on <data_dir>/serve.lock, held for the process's life
  std::unique_ptr<asio::steady_timer> stop_timer;
  std::unique_ptr<asio::steady_timer> stream_check;  // revoked keys' event streams (every 1 s)
  std::chrono::steady_clock::time_point stop_deadline;

  ~Parts() {
    if (lock_fd >= 0) ::close(lock_fd);
  }
};

std::string Gateway::MediaBaseUrl() const {
  if (!config_.public_url.empty()) return config_.public_url;
  return parts_->server ? "http://" + parts_->server->local_address() : "";
}

Gateway::Gateway(Config config)
    : config_(std::move(config)), parts_(std::make_unique<Parts>(config_)) {}

Gateway::~Gateway() {
  if (!parts_) return;
  parts_->io.stop();
  for (auto& t : parts_->threads) {
    if (t.joinable()) t.join();
  }
  // Writes still queued complete (their callbacks only post to the stopped io_context or count);
  // then everything that a callback could reach may go.
  if (parts_->lease_stopper.joinable()) parts_->lease_stopper.join();
  if (parts_->store) parts_->store->Flush();
  parts_->server.reset();
  parts_->api.reset();
  parts_->leases.reset();
  parts_->coordinator.reset();
  parts_->outbound.reset();
  parts_->dispatcher.reset();
  parts_->http_client.reset();
  parts_->carrier_http.reset();
  parts_->store.reset();
}

static void PrintBootstrap(const Credentials& c, const std::string& listen, bool https) {
  std::cout << "\nCreated the first account (shown once; keep the secret):\n"
            << "  account:    " << c.email << "\n"
            << "  key id:     " << c.key_id << "\n"
            << "  secret:     " << c.secret << "\n"
            << "  line:       " << kDevLine << " (simulator)\n\n"
            << "Send a message:\n"
            << "  curl -s " << (https ? "https://" : "http://") << listen
            << "/api/send-message \\\n"
            << "    -H 'sb-api-key-id: " << c.key_id << "' -H 'sb-api-secret-key: " << c.secret
            << "' \\\n"
            << "    -H 'content-type: application/json' \\\n"
            << "    -d '{\"number\":\"+12125550100\",\"from_number\":\"" << kDevLine
            << "\",\"content\":\"Hello from bluegate\"}'\n\n"
            << std::flush;
}

void Gateway::Start() {
  Parts& p = *parts_;
  // One server per data directory: two would both resume the same queued messages. Admin
  // commands take no lock; they are safe beside a server.
  PrivateDataDir(config_.data_dir);
  // (On PostgreSQL, the line leases keep nodes apart instead.)
  const std::string lock_path = config_.data_dir + "/serve.lock";
  p.lock_fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (!config_.clustered() && (p.lock_fd < 0 || ::flock(p.lock_fd, LOCK_EX | LOCK_NB) != 0)) {
    throw std::runtime_error("another `bluegate serve` is already running on data directory " +
                             config_.data_dir);
  }
  if (config_.clustered() && config_.node_id.empty()) config_.node_id = DefaultNodeId(config_);
  p.store = OpenStore(config_);
  AttachConfiguredAccounts(config_, *p.store);
  if (config_.clustered()) {
    // Its address is the API's, known once the server listens (SetAddress below).
    p.coordinator = store::MakeCoordinator(config_.database_url, config_.node_id, config_.listen);
  }
  p.phones = std::make_unique<PhoneNumbers>(config_.blocked_numbers);

  net::HttpClientSettings hc;
  hc.timeout = config_.webhook_timeout;
  hc.max_connections_per_endpoint = config_.webhook_max_connections;
  hc.policy = WebhookPolicy(config_);
  hc.ca_file = config_.webhook_ca_file;
  hc.verify_tls = config_.webhook_verify_tls;
  p.http_client = net::MakeHttpClient(p.io, hc);
  spdlog::info(
      "webhook and media targets: loopback {} ({}), private networks {} (webhooks.allow_private)",
      hc.policy.allow_loopback ? "allowed" : "refused",
      config_.webhook_allow_loopback
          ? "webhooks.allow_loopback"
          : (hc.policy.allow_loopback ? "the API listens on loopback"
                                      : "the API listens beyond loopback"),
      hc.policy.allow_private ? "allowed" : "refused");
  net::HttpClientSettings carrier_hc;
  carrier_hc.timeout = std::chrono::seconds(60);
  carrier_hc.policy.allow_loopback = true;
  carrier_hc.policy.allow_private = true;
  carrier_hc.user_agent = "bluegate-carriers/0.1";
  p.carrier_http = net::MakeHttpClient(p.io, carrier_hc);
  webhooks::DispatcherSettings ds;
  ds.schedule = config_.webhook_schedule;
  ds.retention = config_.webhook_retention;
  p.dispatcher = webhooks::MakeDispatcher(p.io, *p.store, *p.store, *p.http_client, SystemClock(),
                                          p.metrics, ds);
  p.store->SetEventObserver(
      [hub = &p.events](int64_t account) { return hub->Listening(account); },
      [hub = &p.events](int64_t account, const std::string& type, const std::string& data,
                        TimePoint at) { hub->Publish(account, type, data, at); });
  p.store->SetDeliveryObserver([d = p.dispatcher.get(), &p](std::vector<store::Delivery> ds) {
    // Scale-out: deliveries another node dispatches (it drives the message's line) are announced
    // to it (the coordinator sends them in the background, ahead of the message itself).
    int64_t told = 0;  // a message's deliveries come together: one notification each
    std::erase_if(ds, [&p, &told](const store::Delivery& x) {
      if (x.owner.empty()) return false;
      if (x.message_id != told) p.coordinator->NotifyDeliveries(x.owner, x.message_id);
      told = x.message_id;
      return true;
    });
    if (!ds.empty()) d->Add(std::move(ds));
  });

  queue::QueueSettings qs = QueueSettingsOf(config_);
  qs.events = &p.events;
  p.media_quota = std::make_unique<api::MediaQuota>(config_.media_max_account_bytes);
  p.media_quota->Load(config_.data_dir + "/media");
  p.shrinker =
      std::make_unique<MediaShrinker>(MediaShrinkerSettings{config_.data_dir + "/media",
                                                            config_.media_compress_threads,
                                                            config_.media_max_pending_compressions,
                                                            [this] { return MediaBaseUrl(); },
                                                            {}},
                                      *p.http_client, *p.media_quota, p.metrics);
  qs.media_shrinker = [s = p.shrinker.get()](queue::ShrinkRequest r, auto done) {
    s->Shrink(std::move(r), std::move(done));
  };
  // The size a media URL declares (HEAD); when it declares none, a GET streamed to a scratch
  // file that stops past the largest limit: the size is counted, never held in memory, and the
  // file goes with the answer (a compression for SMS reads it instead of fetching it again; it is
  // deleted once nobody needs it).
  qs.media_probe = [client = p.http_client.get(), dir = config_.data_dir + "/media"](
                       const std::string& url, std::function<void(queue::MediaSize)> done) {
    auto parsed = ParseHttpUrl(url);
    if (!parsed) return done(queue::MediaSize{std::nullopt, "not an http(s) URL", nullptr});
    client->Probe(*parsed,
                  [client, dir, url = *parsed, done = std::move(done)](net::FetchResult r) mutable {
                    if (!r.error.empty() || r.bytes)
                      return done(queue::MediaSize{r.bytes, r.error, nullptr});
                    std::error_code ec;
                    std::filesystem::create_directories(dir, ec);
                    auto body = std::make_shared<queue::DownloadedMedia>(dir + "/.size-check-" +
                                                                         SecureIds().RandomHex(8));
                    constexpr uint64_t kCap = queue::kIMessageMediaLimit;
                    client->Fetch(url, kCap, body->path(),
                                  [body, done = std::move(done)](net::FetchResult f) mutable {
                                    if (f.too_large)
                                      return done(queue::MediaSize{kCap + 1, "", nullptr});
                                    if (!f.error.empty()) {
                                      return done(queue::MediaSize{std::nullopt, f.error, nullptr});
                                    }
                                    done(queue::MediaSize{f.bytes, "", std::move(body)});
                                  });
                  });
  };
  // The carriers this build drives are the rows of carriers/registry.cc; this is what they are
  // made with. The operator named a BlueBubbles server (often on the LAN): its calls skip the
  // webhook address policy, through a client of their own; attachments a caller named do not.
  p.carrier_env = std::make_unique<carriers::CarrierEnv>(
      carriers::CarrierEnv{p.io, SystemClock(), config_.sim, *p.carrier_http, *p.http_client,
                           [this] { return MediaBaseUrl(); }});
  queue::CarrierFactory carriers =
      [this](const store::Line& line,
             carriers::CarrierSink& sink) -> std::unique_ptr<carriers::Carrier> {
    auto broken = [&line](const std::string& why) -> std::unique_ptr<carriers::Carrier> {
      spdlog::error("line {} ({}): {}; its messages fail until this is fixed", line.number,
                    line.carrier, why);
      return std::make_unique<UnavailableCarrier>("the line's carrier is misconfigured: " + why);
    };
    auto options = EffectiveOptions(config_, line);
    if (!options.ok()) return broken(options.error().message);
    auto made = carriers::MakeLineCarrier(line.carrier, *parts_->carrier_env, sink, options.value(),
                                          line.number);
    if (!made.ok()) return broken(made.error().message);
    return std::move(made).value();
  };
  p.timers = queue::MakeAsioTimers(p.io, SystemClock());
  p.outbound = std::make_unique<queue::Outbound>(p.io, *p.store, SystemClock(), *p.timers,
                                                 SecureIds(), p.metrics, std::move(carriers), qs);
  p.metrics.AddGaugeProvider([o = p.outbound.get(), per_line = config_.metrics_per_line](
                                 std::string& out) { o->RenderGauges(out, per_line); });
  p.metrics.AddGaugeProvider([store = p.store.get(), pg = config_.clustered()](std::string& out) {
    const store::WriteStats w = store->Stats();
    auto counter = [&out](const char* name, const char* help, const std::string& value) {
      out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " counter\n" + name +
             " " + value + "\n";
    };
    counter("bluegate_store_commits_total", "Transactions the store's writer committed.",
            std::to_string(w.commits));
    counter("bluegate_store_writes_total", "Writes those transactions carried (group commit).",
            std::to_string(w.writes));
    counter("bluegate_store_writer_busy_seconds_total", "Time the writer spent running batches.",
            std::to_string(static_cast<double>(w.busy_us) / 1e6));
    counter("bluegate_store_isolated_batches_total",
            "Batches run again with a savepoint per write, because one of their writes failed.",
            std::to_string(w.isolated_batches));
    if (pg) {
      counter("bluegate_store_round_trips_total",
              "Round trips to PostgreSQL on the writer's connection.",
              std::to_string(w.round_trips));
    }
  });
  p.metrics.AddGaugeProvider([d = p.dispatcher.get()](std::string& out) {
    out += "# HELP bluegate_webhook_backlog Webhook deliveries not yet finished.\n";
    out += "# TYPE bluegate_webhook_backlog gauge\n";
    out += "bluegate_webhook_backlog " + std::to_string(d->backlog()) + "\n";
  });

  if (config_.bootstrap) {
    auto lines = p.store->ListLines(std::nullopt);
    if (lines.ok() && lines->empty() && !p.store->FindAccountByEmail(kDevEmail).ok()) {
      auto creds = CreateAccount(*p.store, kDevEmail, "blue", "", "");
      if (creds.ok()) {
        auto account = p.store->FindAccountByEmail(kDevEmail);
        if (account.ok() &&
            p.store->AddLine(store::Line{kDevLine, account->id, "sim", "{}", {}}).ok()) {
          bootstrap_creds_ = creds.value();
        }
      }
    }
  }

  if (config_.clustered()) {
    // Lines are driven where their lease is; a message accepted here for another node's line is
    // announced to it (LISTEN/NOTIFY) once the coordinator exists.
    p.outbound->UseLeases(
        [&p](const std::string& line, int64_t id) { p.coordinator->Notify(line, id); });
  }
  p.dispatcher->Start();
  auto recovered = p.outbound->Recover();
  if (!recovered.ok()) throw std::runtime_error("recovery failed: " + recovered.error().message);
  // `bluegate lines add|set|remove` from another process reach the lines within a second.
  p.outbound->StartLines();
  p.outbound->WatchLineChanges(std::chrono::seconds(1));
  // `bluegate sim inbound` (no event stream of its own) reaches /api/v2/events the same way.
  const PostFn on_io = [&io = p.io](std::function<void()> fn) { asio::post(io, std::move(fn)); };
  p.relay = std::make_unique<EventRelay>(*p.store, p.events, *p.timers, SystemClock(), on_io);
  if (auto started = p.relay->Start(std::chrono::seconds(1)); !started.ok()) {
    throw std::runtime_error("cannot read announced events: " + started.error().message);
  }
  if (config_.store_message_retention.count() > 0) {
    // A pass runs on an io thread and holds the writer in slices of 5,000 messages.
    p.pruner = std::make_unique<MessagePruner>(*p.store, *p.timers, SystemClock(), on_io,
                                               config_.store_message_retention);
    p.pruner->Start();
  }
  if (recovered.value() > 0)
    spdlog::info("resumed {} queued or in-flight messages", recovered.value());

  api::HttpServerSettings hs;
  std::tie(hs.host, hs.port) = SplitHostPort(config_.listen);
  hs.max_body_bytes = config_.max_body_bytes;
  hs.max_header_bytes = config_.http.max_header_bytes;
  hs.max_connections = config_.http.max_connections;
  hs.max_connections_per_address = config_.http.max_connections_per_address;
  hs.idle_timeout = config_.http.idle_timeout;
  hs.header_timeout = config_.http.header_timeout;
  hs.body_timeout = config_.http.body_timeout;
  hs.send_timeout = config_.http.send_timeout;
  hs.max_upload_bytes = config_.http.max_upload_bytes;
  hs.max_concurrent_uploads = config_.http.max_concurrent_uploads;
  hs.access_log = config_.access_log;
  hs.tls_cert_file = config_.tls_cert_file;
  hs.tls_key_file = config_.tls_key_file;
  api::MediaSettings media;
  media.dir = config_.data_dir + "/media";
  media.max_bytes = config_.media_max_upload_bytes;
  media.quota = p.media_quota.get();
  media.public_url = [this] { return MediaBaseUrl(); };
  media.fetch = [client = p.http_client.get()](const HttpUrl& url, uint64_t max, std::string path,
                                               std::function<void(api::MediaFetchResult)> done) {
    client->Fetch(url, max, std::move(path), [done = std::move(done)](net::FetchResult r) {
      done(api::MediaFetchResult{r.error, r.bytes.value_or(0)});
    });
  };
  api::ApiContext context{
      *p.store,
      *p.outbound,
      *p.phones,
      SystemClock(),
      SecureIds(),
      p.metrics,
      [d = p.dispatcher.get()](std::vector<store::Delivery> ds) { d->Add(std::move(ds)); },
      std::move(media),
      &p.events,
      {},
      {},
      {},
      {},
      {},
      config_.access_log,
      config_.console_enabled,
      api::ConsoleSessionSettings{config_.console_idle_timeout, config_.console_max_age,
                                  config_.console_max_sessions},
      config_.console_operator_token};
  context.limits.webhooks_per_type = config_.webhooks_max_per_type;
  context.limits.webhooks_per_account = config_.webhooks_max_per_account;
  context.limits.auth_failures_per_minute = config_.auth_max_failures_per_minute;
  context.limits.metrics_token = config_.metrics_token;
  context.limits.bulk_items = config_.contacts_max_bulk_items;
  if (config_.clustered()) {
    context.nodes = [&p] { return p.coordinator->Nodes(); };
    context.leases = [&p] { return p.coordinator->Leases(); };
    context.node_id = config_.node_id;
    context.forward = [&p, node = config_.node_id](const std::string& line,
                                                   const api::HttpRequest& req,
                                                   const api::Responder& respond) {
      // Forwarded once at most: a node that gets a forwarded call answers it itself.
      if (req.Header("x-bluegate-forwarded-by")) return false;
      if (p.outbound->Drives(line)) return false;
      auto address = p.outbound->HolderAddress(line);
      if (!address) {
        // The lease moved since this node's last round: the database knows where.
        auto known = p.coordinator->HolderAddress(line);
        if (known.ok()) address = known.value();
      }
      if (!address) return false;
      auto url = ParseHttpUrl("http://" + *address + req.path +
                              (req.query.empty() ? "" : "?" + req.query));
      if (!url) return false;
      net::HttpCall call;
      call.method = req.method;
      call.url = *url;
      for (const char* h : {"sb-api-key-id", "sb-api-secret-key", "content-type"}) {
        if (auto v = req.Header(h)) call.headers.emplace_back(h, std::string(*v));
      }
      call.headers.emplace_back("x-bluegate-forwarded-by", node);
      call.body = req.body;
      call.timeout = std::chrono::seconds(30);
      call.max_response_bytes = 1 << 20;
      p.carrier_http->Call(std::move(call), [respond, line, address = *address](net::PostResult r) {
        if (r.status == 0) {
          return respond(
              api::ErrorResponse(Error{ErrorKind::kDisconnected,
                                       "line " + line + " is driven by the node at " + address +
                                           ", which did not answer (" + r.error + "); retry later",
                                       ErrorCode::kServerRateExceeded, Millis(1000)}));
        }
        respond(api::JsonResponse(r.status, std::move(r.body)));
      });
      return true;
    };
  }
  p.api = std::make_unique<api::Api>(std::move(context), config_.rate_limits);
  p.server = api::MakeHttpServer(
      p.io, hs,
      [a = p.api.get()](api::HttpRequest req, api::Responder r) {
        a->Handle(std::move(req), std::move(r));
      },
      p.metrics);
  // Before `listening on` is printed: from then on a SIGHUP reloads and never ends the process.
  if (!config_.config_file.empty()) config_text_ = ReadConfigText(config_.config_file);
  p.reload = std::make_unique<asio::signal_set>(p.io, SIGHUP);
  WaitForReload();
  p.stream_check = std::make_unique<asio::steady_timer>(p.io);
  CheckStreams();
  p.server->Start();
  if (config_.clustered()) {
    p.coordinator->SetAddress(AdvertisedAddress(p.server->local_address()));
    queue::LeaseSettings ls;
    ls.ttl = config_.lease_ttl;
    ls.renew = config_.lease_renew;
    p.leases = std::make_unique<queue::LeaseKeeper>(
        *p.coordinator, *p.store, *p.store, *p.outbound,
        [d = p.dispatcher.get()](std::vector<store::Delivery> ds) { d->Add(std::move(ds)); }, ls);
    p.leases->Start();
    spdlog::info("node {} drives {} lines", config_.node_id, p.outbound->Driven().size());
  }
  if (!config_.tls_cert_file.empty()) {
    spdlog::info("serving HTTPS (TLS 1.2 and 1.3) with the certificate {}; SIGHUP reloads it",
                 config_.tls_cert_file);
  }
  if (bootstrap_creds_) {
    PrintBootstrap(*bootstrap_creds_, p.server->local_address(), !config_.tls_cert_file.empty());
  }
}

std::string Gateway::local_address() const {
  return parts_->server ? parts_->server->local_address() : "";
}

void Gateway::RequestStop() {
  asio::post(parts_->io, [this] {
    Parts& p = *parts_;
    if (p.stopping.exchange(true)) return;
    spdlog::info("stopping: no new connections; finishing requests in flight");
    p.server->Stop();
    if (p.leases) {
      // Lines stop here and their leases go back now, so the other nodes take them at their next
      // round; on a thread of its own, since stopping a line waits for its strand.
      p.lease_stopper = std::thread([&p] {
        p.leases->Stop();
        p.leases_stopped = true;
      });
    }
    // Give open connections a moment to finish their current request, then stop.
    p.stop_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
    p.stop_timer = std::make_unique<asio::steady_timer>(p.io);
    PollStop();
  });
}

void Gateway::PollStop() {
  Parts& p = *parts_;
  // The lines stop (leases given up) before the io_context does.
  const bool lines_stopped = !p.lease_stopper.joinable() || p.leases_stopped.load();
  if ((lines_stopped && p.server->open_connections() == 0) ||
      std::chrono::steady_clock::now() >= p.stop_deadline) {
    p.store->Flush();
    p.io.stop();
    return;
  }
  p.stop_timer->expires_after(std::chrono::milliseconds(20));
  p.stop_timer->async_wait([this](const boost::system::error_code&) { PollStop(); });
}

// An event stream lives on after its key is revoked unless something ends it: each second the
// keys of open streams are read again (Api::RecheckStreams).
void Gateway::CheckStreams() {
  parts_->stream_check->expires_after(std::chrono::seconds(1));
  parts_->stream_check->async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    parts_->api->RecheckStreams();
    CheckStreams();
  });
}

// SIGHUP: app/reload.h.
void Gateway::WaitForReload() {
  parts_->reload->async_wait([this](const boost::system::error_code& ec, int) {
    if (ec) return;
    Parts& p = *parts_;
    Reload(config_, config_text_,
           ReloadTargets{*p.outbound, *p.server, *p.store, *p.api, *p.dispatcher, *p.http_client});
    WaitForReload();
  });
}

void Gateway::Run() {
  Parts& p = *parts_;
  p.signals = std::make_unique<asio::signal_set>(p.io, SIGINT, SIGTERM);
  p.signals->async_wait([this](const boost::system::error_code& ec, int) {
    if (!ec) RequestStop();
  });

  const int n =
      config_.threads > 0 ? config_.threads : std::max(1u, std::thread::hardware_concurrency());
  auto guard = asio::make_work_guard(p.io);
  for (int i = 1; i < n; ++i) p.threads.emplace_back([&p] { p.io.run(); });
  p.io.run();
  guard.reset();
  for (auto& t : p.threads) t.join();
  p.threads.clear();
  p.store->Flush();
  spdlog::info("stopped");
}

}  // namespace bluegate::app
