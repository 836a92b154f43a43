// bluegate's configuration: a TOML file (optional), then BLUEGATE_* environment variables, then
// command-line flags, each overriding the one before. docs/configuration.md lists every key.
// With nothing set, this is the local development profile: ./bluegate-data, SQLite, the simulator,
// webhooks to loopback allowed.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/rate_limiter.h"
#include "carriers/options.h"
#include "carriers/sim/sim_carrier.h"
#include "core/retry_schedule.h"
#include "queue/line_queue.h"

namespace bluegate::app {

struct Config {
  std::string data_dir = "./bluegate-data";
  std::string listen = "127.0.0.1:8080";
  int threads = 0;  // 0: one per core
  size_t max_body_bytes = 1 << 20;
  std::vector<std::string> blocked_numbers;
  bool bootstrap = true;    // create a first account and line when the store has none
  std::string config_file;  // the file it was read from (empty: none); SIGHUP reads it again
  std::string log_level = "info";
  std::string log_format = "text";  // "text", or "json": one object per line (core/log_format.h)
  bool access_log = false;          // [http] access_log: a log line per request

  queue::LineLimits line_defaults;
  std::map<std::string, queue::LineLimits> line_overrides;  // by E.164 number
  // Carrier options from the file, by E.164 number; `bluegate lines add|set --option` wins.
  std::map<std::string, carriers::CarrierOptions> line_options;

  std::vector<api::RateRule> rate_limits = api::DefaultRateRules();  // per account

  carriers::sim::SimSettings sim;

  Millis webhook_timeout{15000};
  RetrySchedule webhook_schedule = RetrySchedule::Default();
  // Unset: allowed only when `listen` is a loopback address (the local development profile);
  // listening anywhere else refuses loopback targets unless this says true (docs/security.md).
  std::optional<bool> webhook_allow_loopback;
  bool webhook_allow_private = false;
  size_t webhook_max_connections = 16;
  std::string webhook_ca_file;  // extra trusted CAs (PEM) for https targets
  bool webhook_verify_tls = true;
  Millis webhook_retention{std::chrono::hours(24 * 30)};  // delivery log kept this long

  std::string public_url;  // what media URLs start with; empty: http://<listen address>
  uint64_t media_max_upload_bytes = 100ull * 1024 * 1024;
  uint64_t media_max_account_bytes = 1ull << 30;  // every upload of one account together
  size_t media_compress_threads = 1;              // SMS fallback: compressions at once
  size_t media_max_pending_compressions = 8;  // waiting or fetching too; more wait in their queue

  // Bounds on what one client or one account may hold (docs/security.md lists each).
  struct HttpLimits {
    size_t max_connections = 10000;
    size_t max_connections_per_address = 256;
    size_t max_header_bytes = 16 * 1024;
    Millis idle_timeout{60000};
    Millis header_timeout{10000};
    Millis body_timeout{30000};
    Millis send_timeout{30000};
    size_t max_upload_bytes = 25ull << 20;  // POST /api/upload-file's body
    size_t max_concurrent_uploads = 4;      // upload bodies held at once
  } http;
  size_t events_max_streams_per_account = 100;
  size_t events_max_queued_frames = 1000;
  size_t webhooks_max_per_type = 100;       // webhooks an account may configure for one type
  size_t webhooks_max_per_account = 500;    // and for all types together
  int auth_max_failures_per_minute = 10;    // per client address and key id; then 429
  size_t contacts_max_bulk_items = 10'000;  // entries in one bulk contacts request
  // Writes waiting for the store at most ([store] max_queued_writes); past it the API answers
  // 503 / 5003 (the server is overloaded) instead of queueing without end.
  size_t store_max_queued_writes = 100'000;
  uint64_t store_wal_max_bytes = 64ull << 20;  // SQLite: the WAL a checkpoint empties past
  Millis store_message_retention{0};           // finished messages kept this long; 0: forever
  Millis store_lazy_commit_delay{10};          // webhook attempts alone wait this to share a commit
  int64_t inbound_max_unrouted_per_line = 10'000;  // kept from numbers no account registered
  // [lines.overrides."+1..."] shared_with: accounts (emails) a shared line also serves; the
  // server attaches them when it starts (as `bluegate lines attach`).
  std::map<std::string, std::vector<std::string>> line_shared_with;
  // [console]: the web console at / (issue #17) and its sign-in sessions.
  bool console_enabled = true;
  Millis console_idle_timeout{std::chrono::hours(2)};
  Millis console_max_age{std::chrono::hours(12)};
  size_t console_max_sessions = 10'000;
  std::string console_operator_token;  // signs an operator in to the all-accounts view
  bool metrics_per_line = false;       // /metrics names lines (their phone numbers)
  std::string metrics_token;           // when set, /metrics requires "Authorization: Bearer"
  // [tls]: PEM files; when both are set, `listen` serves HTTPS (SIGHUP reloads them).
  std::string tls_cert_file;
  std::string tls_key_file;

  // PostgreSQL (postgresql://user:password@host:port/db) shared by every node of a deployment;
  // empty: SQLite in data_dir.
  std::string database_url;
  // Scale-out (PostgreSQL only): this node's name in the lease table (default: host name and
  // listen port), how long a line lease lasts, and how often leases are renewed and rebalanced.
  std::string node_id;
  Millis lease_ttl{10000};
  Millis lease_renew{2000};

  std::string database_path() const { return data_dir + "/bluegate.db"; }
  // Whether webhook and media targets on loopback addresses are allowed: the explicit setting,
  // else whether bluegate itself listens on a loopback address.
  bool LoopbackTargetsAllowed() const;
  bool clustered() const { return !database_url.empty(); }
};

// Reads `path` (when given) and the environment. Throws std::runtime_error naming the file, key
// and problem on an unreadable file, an unknown key or a value of the wrong type.
Config LoadConfig(const std::optional<std::string>& path);

// The dotted keys whose values differ between two configuration texts (a key added or removed
// counts), for SIGHUP to say what it applied and what needs a restart. Text that does not parse
// reads as empty.
std::vector<std::string> ChangedKeys(std::string_view before, std::string_view after);

// The same reading for a file's text (without the environment): what the config fuzz target and
// tests use. Throws like LoadConfig.
Config ParseConfigText(std::string_view text, const std::string& name);

// Checks what no single key can (a database URL's scheme, lease timing); throws like LoadConfig.
// Call again after command-line flags changed the configuration.
void CheckConfig(const Config& c);

// "127.0.0.1:8080", "[::1]:0" → host and port. Throws std::runtime_error when malformed.
std::pair<std::string, uint16_t> SplitHostPort(const std::string& listen);

}  // namespace bluegate::app
