#include "app/config.h"
#include "app/reload.h"
#include "app/wiring.h"

#include <gtest/gtest.h>

#include <map>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace bluegate::app {
namespace {

std::string WriteToml(const std::string& text) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("bluegate-config-test-" + std::to_string(::getpid()) + ".toml");
  std::ofstream(path) << text;
  return path.string();
}

TEST(ConfigTest, NoFileIsTheLocalDevelopmentProfile) {
  ::unsetenv("BLUEGATE_DATA_DIR");
  ::unsetenv("BLUEGATE_LISTEN");
  ::unsetenv("BLUEGATE_CONFIG");
  Config c = LoadConfig(std::nullopt);
  EXPECT_EQ(c.data_dir, "./bluegate-data");
  EXPECT_EQ(c.listen, "127.0.0.1:8080");
  EXPECT_FALSE(c.webhook_allow_loopback.has_value());
  EXPECT_TRUE(c.LoopbackTargetsAllowed()) << "listening on loopback";
  EXPECT_FALSE(c.webhook_allow_private);
  EXPECT_EQ(c.line_defaults.burst_per_second, 10);
  EXPECT_EQ(c.line_defaults.queue_capacity, 1500u);
  EXPECT_EQ(c.webhook_schedule.max_attempts(), 8);
}

TEST(ConfigTest, FileThenEnvironment) {
  const auto path = WriteToml(R"(
data_dir = "/srv/bg"
listen = "0.0.0.0:9000"
blocked_numbers = ["+15555550123"]
[lines]
burst_per_second = 5
resolve_timeout = "2m"
new_contacts_per_hour = 3
new_contact_after = "14d"
[lines.overrides."+12125550199"]
queue_capacity = 10
shared = true
[rate_limits]
"GET /api/v2/messages" = "5/1s"
"* /api/v2/contacts*" = "none"
[sim]
sent_delay = 0
delivered_delay = "1s"
[webhooks]
retry_schedule = ["0s", "1m"]
allow_loopback = false
)");
  ::setenv("BLUEGATE_LISTEN", "127.0.0.1:7000", 1);
  Config c = LoadConfig(path);
  ::unsetenv("BLUEGATE_LISTEN");
  EXPECT_EQ(c.data_dir, "/srv/bg");
  EXPECT_EQ(c.listen, "127.0.0.1:7000") << "the environment overrides the file";
  EXPECT_EQ(c.blocked_numbers, std::vector<std::string>{"+15555550123"});
  EXPECT_EQ(c.line_defaults.burst_per_second, 5);
  EXPECT_EQ(c.line_defaults.resolve_timeout, std::chrono::minutes(2));
  EXPECT_EQ(c.line_defaults.new_contacts.per_hour, 3);
  EXPECT_EQ(c.line_defaults.new_contacts.per_day, 50) << "SPEC §6 default kept";
  EXPECT_EQ(c.line_overrides.at("+12125550199").queue_capacity, 10u);
  EXPECT_EQ(c.line_overrides.at("+12125550199").burst_per_second, 5)
      << "overrides start from the defaults";
  EXPECT_EQ(c.line_defaults.new_contact_after, std::chrono::hours(24 * 14));
  EXPECT_FALSE(c.line_defaults.shared);
  EXPECT_TRUE(c.line_overrides.at("+12125550199").shared);
  EXPECT_EQ(c.sim.sent_delay, Millis(0));
  EXPECT_EQ(c.sim.delivered_delay, Millis(1000));
  EXPECT_EQ(c.webhook_schedule.max_attempts(), 2);
  EXPECT_EQ(c.webhook_allow_loopback, false);
  ASSERT_EQ(c.rate_limits.size(), 2u) << "the file's rule replaced the default one";
  std::map<std::string, int> requests;
  for (const auto& r : c.rate_limits) requests[r.pattern] = r.requests;
  EXPECT_EQ(requests["GET /api/v2/messages"], 5);
  EXPECT_EQ(requests["* /api/v2/contacts*"], 0);
}

TEST(ConfigTest, MistakesNameTheKey) {
  EXPECT_THROW(
      {
        try {
          LoadConfig(WriteToml("[sim]\nsent_dealy = 5\n"));
        } catch (const std::runtime_error& e) {
          EXPECT_NE(std::string(e.what()).find("unknown key \"sent_dealy\""), std::string::npos);
          throw;
        }
      },
      std::runtime_error);
  EXPECT_THROW(LoadConfig(WriteToml("[lines]\nqueue_capacity = \"lots\"\n")), std::runtime_error);
  EXPECT_THROW(LoadConfig(WriteToml("[webhooks]\ntimeout = \"soon\"\n")), std::runtime_error);
  EXPECT_THROW(LoadConfig(WriteToml("listen = \n")), std::runtime_error);
  EXPECT_THROW(LoadConfig(WriteToml("[rate_limits]\n\"GET /x\" = \"lots\"\n")), std::runtime_error);
  EXPECT_THROW(LoadConfig(WriteToml("[rate_limits]\n\"/x\" = \"1/1s\"\n")), std::runtime_error);
}

// The message a configuration mistake throws (empty when it does not throw).
std::string ConfigError(const std::string& toml) {
  try {
    LoadConfig(WriteToml(toml));
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

TEST(ConfigTest, ASharedLineNamesTheAccountsItAlsoServes) {
  const Config c = LoadConfig(WriteToml(
      "[lines.overrides.\"+13125550790\"]\nshared = true\nshared_with = [\"a@example.com\", "
      "\"b@example.com\"]\n"));
  EXPECT_EQ(c.line_shared_with.at("+13125550790"),
            (std::vector<std::string>{"a@example.com", "b@example.com"}));
  EXPECT_TRUE(c.line_overrides.at("+13125550790").shared);
  EXPECT_NE(ConfigError("[lines.overrides.\"+13125550790\"]\nshared_with = \"a@example.com\"\n")
                .find("shared_with"),
            std::string::npos);
}

TEST(ConfigTest, TheStoresQueueAndWalAreBounded) {
  EXPECT_EQ(LoadConfig(std::nullopt).store_max_queued_writes, 100'000u);
  EXPECT_EQ(LoadConfig(WriteToml("[store]\nmax_queued_writes = 500\n")).store_max_queued_writes,
            500u);
  EXPECT_NE(ConfigError("[store]\nmax_queued_writes = 0\n").find("store.max_queued_writes"),
            std::string::npos);
  EXPECT_EQ(LoadConfig(std::nullopt).store_wal_max_bytes, 64ull << 20);
  EXPECT_EQ(LoadConfig(WriteToml("[store]\nwal_max_bytes = 268435456\n")).store_wal_max_bytes,
            256ull << 20);
  EXPECT_NE(ConfigError("[store]\nwal_max_bytes = 4096\n").find("store.wal_max_bytes"),
            std::string::npos);
  EXPECT_EQ(LoadConfig(std::nullopt).store_message_retention, Millis(0)) << "off by default";
  EXPECT_EQ(LoadConfig(WriteToml("[store]\nmessage_retention = \"90d\"\n")).store_message_retention,
            std::chrono::hours(24 * 90));
  EXPECT_NE(ConfigError("[store]\nmessage_retention = \"5m\"\n").find("store.message_retention"),
            std::string::npos);
  EXPECT_EQ(LoadConfig(std::nullopt).store_lazy_commit_delay, Millis(10));
  EXPECT_EQ(LoadConfig(WriteToml("[store]\nlazy_commit_delay = 0\n")).store_lazy_commit_delay,
            Millis(0));
  EXPECT_EQ(
      LoadConfig(WriteToml("[store]\nlazy_commit_delay = \"50ms\"\n")).store_lazy_commit_delay,
      Millis(50));
  EXPECT_NE(ConfigError("[store]\nlazy_commit_delay = \"5s\"\n").find("store.lazy_commit_delay"),
            std::string::npos);
  EXPECT_NE(ConfigError("[store]\nkeep = 1\n").find("unknown key"), std::string::npos);
  EXPECT_EQ(LoadConfig(std::nullopt).inbound_max_unrouted_per_line, 10'000);
  EXPECT_EQ(LoadConfig(WriteToml("[inbound]\nmax_unrouted_per_line = 50\n"))
                .inbound_max_unrouted_per_line,
            50);
  EXPECT_NE(ConfigError("[inbound]\nmax_unrouted_per_line = 0\n").find("inbound.max_unrouted"),
            std::string::npos);
}

TEST(ConfigTest, TheDailySmsAllowanceIsALineLimitOffByDefault) {
  EXPECT_EQ(LoadConfig(std::nullopt).line_defaults.sms_per_day, 0) << "0: no limit";
  const Config c = LoadConfig(WriteToml(
      "[lines]\nsms_per_day = 200\n[lines.overrides.\"+14155550100\"]\nsms_per_day = 5\n"));
  EXPECT_EQ(c.line_defaults.sms_per_day, 200);
  EXPECT_EQ(c.line_overrides.at("+14155550100").sms_per_day, 5);
  EXPECT_NE(ConfigError("[lines]\nsms_per_day = -1\n").find("lines.sms_per_day"),
            std::string::npos);
}

TEST(ConfigTest, ALinesWindowsAndLookupTtlAreLineLimits) {
  const Config defaults = LoadConfig(std::nullopt);
  EXPECT_EQ(defaults.line_defaults.queue_window, 1000u);
  EXPECT_EQ(defaults.line_defaults.send_window, 1000u);
  const Config c = LoadConfig(
      WriteToml("[lines]\nqueue_window = 250\nsend_window = 20\nlookup_ttl = \"1h\"\n"
                "[lines.overrides.\"+14155550100\"]\nqueue_window = 10\nsend_window = 3\n"));
  EXPECT_EQ(c.line_defaults.queue_window, 250u);
  EXPECT_EQ(c.line_defaults.send_window, 20u);
  EXPECT_EQ(c.line_defaults.lookup_ttl, std::chrono::hours(1));
  EXPECT_EQ(c.line_overrides.at("+14155550100").queue_window, 10u);
  EXPECT_EQ(c.line_overrides.at("+14155550100").send_window, 3u);
  for (const char* key : {"queue_window", "send_window"}) {
    for (const char* value : {"0", "100001", "\"ten\""}) {
      const std::string bad = std::string("[lines]\n") + key + " = " + value + "\n";
      const std::string error = ConfigError(bad);
      EXPECT_NE(error.find(std::string("lines.") + key), std::string::npos) << bad;
    }
    EXPECT_NE(
        ConfigError(std::string("[lines]\n") + key + " = 0\n").find("must be from 1 to 100000"),
        std::string::npos);
  }
}

TEST(ConfigTest, ScaleOutSettings) {
  const Config c = LoadConfig(
      WriteToml("database_url = \"postgresql://bluegate@db:5432/bluegate\"\n"
                "[cluster]\nnode_id = \"gw-a\"\nlease_ttl = \"30s\"\nlease_renew = \"5s\"\n"));
  EXPECT_TRUE(c.clustered());
  EXPECT_EQ(c.database_url, "postgresql://bluegate@db:5432/bluegate");
  EXPECT_EQ(c.node_id, "gw-a");
  EXPECT_EQ(c.lease_ttl, Millis(30000));
  EXPECT_EQ(c.lease_renew, Millis(5000));
  EXPECT_FALSE(LoadConfig(std::nullopt).clustered()) << "SQLite unless a URL is given";

  EXPECT_NE(ConfigError("database_url = \"mysql://db/x\"\n").find("database_url"),
            std::string::npos);
  EXPECT_NE(ConfigError("[cluster]\nlease_ttl = \"6s\"\nlease_renew = \"3s\"\n")
                .find("cluster.lease_renew"),
            std::string::npos)
      << "renewals at most a third of the lease";
  EXPECT_NE(ConfigError("[cluster]\nlease_ttl = \"500ms\"\n").find("cluster.lease_ttl"),
            std::string::npos);
  EXPECT_NE(ConfigError("[cluster]\nnodeid = \"x\"\n").find("nodeid"), std::string::npos);
}

TEST(ConfigTest, ListenAddressesSplit) {
  EXPECT_EQ(SplitHostPort("127.0.0.1:0"), (std::pair<std::string, uint16_t>{"127.0.0.1", 0}));
  EXPECT_EQ(SplitHostPort("[::1]:8080"), (std::pair<std::string, uint16_t>{"::1", 8080}));
  EXPECT_EQ(SplitHostPort("localhost:80").first, "127.0.0.1");
  EXPECT_THROW(SplitHostPort("8080"), std::runtime_error);
  EXPECT_THROW(SplitHostPort("h:99999"), std::runtime_error);
}

TEST(ConfigTest, CarrierOptionsSitUnderTheLine) {
  const auto path = WriteToml(R"(
[lines.overrides."+14155550123"]
burst_per_second = 30
[lines.overrides."+14155550123".options]
host = "smsc.example.com"
port = 2776
tls = true
password = "s3cret"
)");
  Config c = LoadConfig(path);
  EXPECT_EQ(c.line_overrides.at("+14155550123").burst_per_second, 30);
  const auto& o = c.line_options.at("+14155550123");
  EXPECT_EQ(o.at("host"), "smsc.example.com");
  EXPECT_EQ(o.at("port"), "2776");
  EXPECT_EQ(o.at("tls"), "true");
  EXPECT_EQ(o.at("password"), "s3cret");
  const auto bad = WriteToml(R"(
[lines.overrides."+14155550123"]
options = "host=x"
)");
  try {
    LoadConfig(bad);
    FAIL() << "a non-table options was accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("options"), std::string::npos) << e.what();
  }
}

TEST(ConfigTest, StoredCarrierOptionsWinOverTheFile) {
  Config c;
  c.line_options["+14155550123"] = {{"host", "from-file"}, {"password", "filepw"}};
  store::Line line{"+14155550123", 1, "smpp", R"({"host":"from-cli","system_id":"acme"})", {}};
  auto o = EffectiveOptions(c, line);
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->at("host"), "from-cli");
  EXPECT_EQ(o->at("password"), "filepw");
  EXPECT_EQ(o->at("system_id"), "acme");
  EXPECT_TRUE(CheckLineCarrier("smpp", o.value()).ok());
  o->erase("password");
  auto missing = CheckLineCarrier("smpp", o.value());
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("needs option(s) password"), std::string::npos);
  line.options_json = "not json";
  EXPECT_FALSE(EffectiveOptions(c, line).ok());
}

TEST(ConfigTest, ReadsTheBoundsOnClientsAndAccounts) {
  const std::string path = ::testing::TempDir() + "bounds.toml";
  std::ofstream(path) << R"(
listen = "0.0.0.0:8080"
[http]
max_connections = 500
max_connections_per_address = 20
header_timeout = "2s"
[events]
max_streams_per_account = 3
[auth]
max_failures_per_minute = 4
[metrics]
per_line = true
token = "t"
[media]
max_account_bytes = 1000
compress_threads = 2
max_pending_compressions = 3
[webhooks]
max_per_type = 7
)";
  Config c = LoadConfig(path);
  EXPECT_EQ(c.http.max_connections, 500u);
  EXPECT_EQ(c.http.max_connections_per_address, 20u);
  EXPECT_EQ(c.http.header_timeout, Millis(2000));
  EXPECT_EQ(c.http.body_timeout, Millis(30000)) << "unset keys keep their defaults";
  EXPECT_EQ(c.events_max_streams_per_account, 3u);
  EXPECT_EQ(c.auth_max_failures_per_minute, 4);
  EXPECT_TRUE(c.metrics_per_line);
  EXPECT_EQ(c.metrics_token, "t");
  EXPECT_EQ(c.media_max_account_bytes, 1000u);
  EXPECT_EQ(c.media_compress_threads, 2u);
  EXPECT_EQ(c.media_max_pending_compressions, 3u);
  EXPECT_EQ(c.webhooks_max_per_type, 7u);
  EXPECT_FALSE(c.LoopbackTargetsAllowed()) << "listening beyond loopback: the production profile";
}

TEST(ConfigTest, RefusesABoundOfZeroOrAnUnknownBoundKey) {
  const std::string path = ::testing::TempDir() + "bad-bounds.toml";
  std::ofstream(path) << "[http]\nmax_connections = 0\n";
  EXPECT_THROW(LoadConfig(path), std::runtime_error);
  std::ofstream(path) << "[events]\nmax_streams = 3\n";
  EXPECT_THROW(LoadConfig(path), std::runtime_error);
}

TEST(ConfigTest, AnExplicitSwitchWinsOverTheListenAddress) {
  Config c;
  c.listen = "0.0.0.0:8080";
  c.webhook_allow_loopback = true;
  EXPECT_TRUE(c.LoopbackTargetsAllowed());
  c.listen = "127.0.0.1:8080";
  c.webhook_allow_loopback = false;
  EXPECT_FALSE(c.LoopbackTargetsAllowed());
  c.webhook_allow_loopback.reset();
  c.listen = "[::1]:8080";
  EXPECT_TRUE(c.LoopbackTargetsAllowed());
}

TEST(ConfigTest, ChangedKeysNamesEachKeyThatDiffersAddedOrRemoved) {
  const std::string before = R"(
log_level = "info"
max_body_bytes = 1000
[lines]
queue_capacity = 1
[lines.overrides."+14155550123"]
new_contacts_per_day = 5
)";
  const std::string after = R"(
log_level = "debug"
max_body_bytes = 1000
[lines]
queue_capacity = 1
[lines.overrides."+14155550123"]
new_contacts_per_day = 6
[webhooks]
timeout = "5s"
retry_schedule = ["1s", "2s"]
)";
  EXPECT_EQ(ChangedKeys(before, after),
            (std::vector<std::string>{"lines.overrides.+14155550123.new_contacts_per_day",
                                      "log_level", "webhooks.retry_schedule", "webhooks.timeout"}));
  EXPECT_EQ(ChangedKeys(after, after), std::vector<std::string>{});
  EXPECT_EQ(ChangedKeys("x = 1\n", "x = 1.0\n"), std::vector<std::string>{"x"})
      << "another type is a change";
  EXPECT_EQ(ChangedKeys("[a]\nb = [1, 2]\n", "[a]\nb = [1, 3]\n"), std::vector<std::string>{"a.b"});
}

TEST(ConfigTest, SighupAppliesLimitsRatesWebhookTimingAndLogLevelAndNothingThatShapesListeners) {
  for (const char* key :
       {"log_level", "lines.queue_capacity", "lines.overrides.+14155550123.new_contacts_per_day",
        "lines.overrides.+14155550123.shared_with", "rate_limits.GET /api/v2/messages",
        "webhooks.timeout", "webhooks.retry_schedule", "webhooks.allow_loopback",
        "webhooks.allow_private", "webhooks.retention"}) {
    EXPECT_TRUE(AppliesLive(key)) << key;
  }
  for (const char* key :
       {"listen", "data_dir", "database_url", "max_body_bytes", "threads", "log_format",
        "lines.overrides.+14155550123.options.host", "webhooks.max_connections_per_endpoint",
        "webhooks.ca_file", "webhooks.verify_tls", "http.max_connections", "tls.cert_file",
        "rate_limits", "lines"}) {
    EXPECT_FALSE(AppliesLive(key)) << key;
  }
}

TEST(ConfigTest, ReadsTheConsoleTableAndRefusesWhatItDoesNotKnow) {
  Config c = ParseConfigText(
      "[console]\nenabled = false\nsession_idle_timeout = \"30m\"\nsession_max_age = \"1d\"\n"
      "max_sessions = 7\n",
      "c.toml");
  EXPECT_FALSE(c.console_enabled);
  EXPECT_EQ(c.console_idle_timeout, Millis(30 * 60'000));
  EXPECT_EQ(c.console_max_age, Millis(24 * 3600'000));
  EXPECT_EQ(c.console_max_sessions, 7u);
  EXPECT_TRUE(ParseConfigText("", "c.toml").console_enabled) << "on by default";
  EXPECT_THROW(ParseConfigText("[console]\nsecure = true\n", "c.toml"), std::runtime_error);
  EXPECT_THROW(ParseConfigText("[console]\nsession_idle_timeout = \"5s\"\n", "c.toml"),
               std::runtime_error);
  EXPECT_THROW(ParseConfigText("[console]\nmax_sessions = 0\n", "c.toml"), std::runtime_error);
  EXPECT_EQ(
      ParseConfigText("[console]\noperator_token = \"0123456789abcdef0123456789\"\n", "c.toml")
          .console_operator_token,
      "0123456789abcdef0123456789");
  Config short_token;
  short_token.console_operator_token = "too-short";
  EXPECT_THROW(CheckConfig(short_token), std::runtime_error) << "a guessable operator token";
}

}  // namespace
}  // namespace bluegate::app
