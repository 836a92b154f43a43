#include "app/config.h"

#include <toml++/toml.h>
#include <boost/asio/ip/address.hpp>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <set>
#include <stdexcept>

namespace bluegate::app {
namespace {

[[noreturn]] void Fail(const std::string& where, const std::string& what) {
  throw std::runtime_error("configuration: " + where + ": " + what);
}

void CheckKeys(const toml::table& t, const std::string& where, const std::set<std::string>& known) {
  for (const auto& [k, v] : t) {
    if (!known.contains(std::string(k.str()))) {
      std::string list;
      for (const auto& name : known) list += (list.empty() ? "" : ", ") + name;
      Fail(where, "unknown key \"" + std::string(k.str()) + "\" (valid keys: " + list + ")");
    }
  }
}

Millis DurationValue(const toml::node& n, const std::string& where) {
  if (auto i = n.value<int64_t>()) return Millis(*i);
  if (auto s = n.value<std::string>()) {
    if (auto d = ParseDuration(*s)) return *d;
  }
  Fail(where, "expected a duration such as \"250ms\", \"5s\", \"5m\" or a number of milliseconds");
}

template <typename T>
T Value(const toml::node& n, const std::string& where, const char* expected) {
  if (auto v = n.value<T>()) return *v;
  Fail(where, std::string("expected ") + expected);
}

void ReadLimits(const toml::table& t, const std::string& where, queue::LineLimits& out,
                bool allow_overrides) {
  std::set<std::string> known{
      "burst_per_second",      "queue_capacity",    "resolve_timeout", "new_contacts_per_day",
      "new_contacts_per_hour", "new_contact_after", "shared",          "sms_per_day",
      "queue_window",          "lookup_ttl",        "send_window"};
  if (allow_overrides) known.insert("overrides");
  CheckKeys(t, where, known);
  if (auto n = t.get("burst_per_second"))
    out.burst_per_second = Value<double>(*n, where + ".burst_per_second", "a number");
  if (auto n = t.get("queue_capacity")) {
    const auto v = Value<int64_t>(*n, where + ".queue_capacity", "a whole number");
    if (v < 1) Fail(where + ".queue_capacity", "must be at least 1");
    out.queue_capacity = static_cast<size_t>(v);
  }
  if (auto n = t.get("queue_window")) {
    const auto v = Value<int64_t>(*n, where + ".queue_window", "a whole number");
    if (v < 1 || v > 100'000) Fail(where + ".queue_window", "must be from 1 to 100000");
    out.queue_window = static_cast<size_t>(v);
  }
  if (auto n = t.get("send_window")) {
    const auto v = Value<int64_t>(*n, where + ".send_window", "a whole number");
    if (v < 1 || v > 100'000) Fail(where + ".send_window", "must be from 1 to 100000");
    out.send_window = static_cast<size_t>(v);
  }
  if (auto n = t.get("new_contacts_per_day")) {
    out.new_contacts.per_day = static_cast<int>(
        Value<int64_t>(*n, where + ".new_contacts_per_day", "a whole number (0: no limit)"));
  }
  if (auto n = t.get("new_contacts_per_hour")) {
    out.new_contacts.per_hour = static_cast<int>(
        Value<int64_t>(*n, where + ".new_contacts_per_hour", "a whole number (0: no limit)"));
  }
  if (auto n = t.get("resolve_timeout"))
    out.resolve_timeout = DurationValue(*n, where + ".resolve_timeout");
  if (auto n = t.get("new_contact_after"))
    out.new_contact_after = DurationValue(*n, where + ".new_contact_after");
  if (auto n = t.get("shared")) out.shared = Value<bool>(*n, where + ".shared", "true or false");
  if (auto n = t.get("sms_per_day")) {
    const auto v = Value<int64_t>(*n, where + ".sms_per_day", "a whole number (0: no limit)");
    if (v < 0) Fail(where + ".sms_per_day", "must be 0 (no limit) or more");
    out.sms_per_day = static_cast<int>(v);
  }
  if (auto n = t.get("lookup_ttl")) out.lookup_ttl = DurationValue(*n, where + ".lookup_ttl");
}

// A whole number of at least 1.
uint64_t Positive(const toml::node& n, const std::string& where) {
  const auto v = Value<int64_t>(n, where, "a whole number");
  if (v < 1) Fail(where, "must be at least 1");
  return static_cast<uint64_t>(v);
}

// A table whose keys are all whole numbers of at least 1, each stored by its setter.
struct PositiveKey {
  const char* key;
  std::function<void(uint64_t)> set;
};

void ReadPositives(const toml::table& root, const std::string& table,
                   const std::vector<PositiveKey>& keys) {
  auto* t = root.get_as<toml::table>(table);
  if (!t) return;
  std::set<std::string> known;
  for (const auto& k : keys) known.insert(k.key);
  CheckKeys(*t, table, known);
  for (const auto& k : keys) {
    if (auto n = t->get(k.key)) k.set(Positive(*n, table + "." + k.key));
  }
}

// [http], [events], [auth], [contacts] and [metrics]: the bounds on what a client or an account
// may hold.
void ReadBounds(const toml::table& root, Config& c) {
  if (auto* http = root.get_as<toml::table>("http")) {
    CheckKeys(*http, "http",
              {"max_connections", "max_connections_per_address", "max_header_bytes", "idle_timeout",
               "header_timeout", "body_timeout", "send_timeout", "max_upload_bytes",
               "max_concurrent_uploads", "access_log"});
    auto& h = c.http;
    if (auto n = http->get("access_log")) {
      c.access_log = Value<bool>(*n, "http.access_log", "true or false");
    }
    if (auto n = http->get("max_upload_bytes"))
      h.max_upload_bytes = Positive(*n, "http.max_upload_bytes");
    if (auto n = http->get("max_concurrent_uploads"))
      h.max_concurrent_uploads = Positive(*n, "http.max_concurrent_uploads");
    if (auto n = http->get("max_connections"))
      h.max_connections = Positive(*n, "http.max_connections");
    if (auto n = http->get("max_connections_per_address")) {
      h.max_connections_per_address = Positive(*n, "http.max_connections_per_address");
    }
    if (auto n = http->get("max_header_bytes")) {
      h.max_header_bytes = Positive(*n, "http.max_header_bytes");
      if (h.max_header_bytes < 1024) Fail("http.max_header_bytes", "must be at least 1024");
    }
    const std::pair<const char*, Millis*> timeouts[] = {{"idle_timeout", &h.idle_timeout},
                                                        {"header_timeout", &h.header_timeout},
                                                        {"body_timeout", &h.body_timeout},
                                                        {"send_timeout", &h.send_timeout}};
    for (const auto& [key, out] : timeouts) {
      if (auto n = http->get(key)) {
        *out = DurationValue(*n, std::string("http.") + key);
        if (out->count() < 1) Fail(std::string("http.") + key, "must be positive");
      }
    }
  }
  ReadPositives(
      root, "events",
      {{"max_streams_per_account", [&c](uint64_t v) { c.events_max_streams_per_account = v; }},
       {"max_queued_frames", [&c](uint64_t v) { c.events_max_queued_frames = v; }}});
  if (auto* st = root.get_as<toml::table>("store")) {
    CheckKeys(*st, "store",
              {"max_queued_writes", "wal_max_bytes", "message_retention", "lazy_commit_delay"});
    if (auto n = st->get("max_queued_writes")) {
      c.store_max_queued_writes = static_cast<size_t>(Positive(*n, "store.max_queued_writes"));
    }
    if (auto n = st->get("wal_max_bytes")) {
      c.store_wal_max_bytes = Positive(*n, "store.wal_max_bytes");
      if (c.store_wal_max_bytes < (1u << 20)) {
        Fail("store.wal_max_bytes", "must be at least 1048576");
      }
    }
    if (auto n = st->get("message_retention")) {
      c.store_message_retention = DurationValue(*n, "store.message_retention");
      if (c.store_message_retention.count() != 0 &&
          c.store_message_retention < std::chrono::hours(1)) {
        Fail("store.message_retention", "must be 0 (keep every message) or at least \"1h\"");
      }
    }
    if (auto n = st->get("lazy_commit_delay")) {
      c.store_lazy_commit_delay = DurationValue(*n, "store.lazy_commit_delay");
      if (c.store_lazy_commit_delay.count() < 0 || c.store_lazy_commit_delay > Millis(1000)) {
        Fail("store.lazy_commit_delay", "must be from 0 (commit at once) to \"1s\"");
      }
    }
  }
  ReadPositives(root, "inbound", {{"max_unrouted_per_line", [&c](uint64_t v) {
                                     c.inbound_max_unrouted_per_line =
                                         static_cast<int64_t>(std::min<uint64_t>(v, 100'000'000));
                                   }}});
  ReadPositives(root, "auth", {{"max_failures_per_minute", [&c](uint64_t v) {
                                  c.auth_max_failures_per_minute =
                                      static_cast<int>(std::min<uint64_t>(v, 1'000'000));
                                }}});
  ReadPositives(root, "contacts",
                {{"max_bulk_items", [&c](uint64_t v) { c.contacts_max_bulk_items = v; }}});
  ReadPositives(root, "media",
                {{"max_upload_bytes", [&c](uint64_t v) { c.media_max_upload_bytes = v; }},
                 {"max_account_bytes", [&c](uint64_t v) { c.media_max_account_bytes = v; }},
                 {"compress_threads",
                  [&c](uint64_t v) { c.media_compress_threads = std::min<uint64_t>(v, 64); }},
                 {"max_pending_compressions", [&c](uint64_t v) {
                    c.media_max_pending_compressions = std::min<uint64_t>(v, 10'000);
                  }}});
  if (auto* console = root.get_as<toml::table>("console")) {
    CheckKeys(
        *console, "console",
        {"enabled", "session_idle_timeout", "session_max_age", "max_sessions", "operator_token"});
    if (auto n = console->get("operator_token")) {
      c.console_operator_token = Value<std::string>(*n, "console.operator_token", "a string");
    }
    if (auto n = console->get("enabled")) {
      c.console_enabled = Value<bool>(*n, "console.enabled", "true or false");
    }
    if (auto n = console->get("max_sessions")) {
      c.console_max_sessions = Positive(*n, "console.max_sessions");
    }
    const std::pair<const char*, Millis*> ages[] = {
        {"session_idle_timeout", &c.console_idle_timeout}, {"session_max_age", &c.console_max_age}};
    for (const auto& [key, out] : ages) {
      if (auto n = console->get(key)) {
        *out = DurationValue(*n, std::string("console.") + key);
        if (*out < Millis(60'000)) Fail(std::string("console.") + key, "must be at least \"1m\"");
      }
    }
  }
  if (auto* metrics = root.get_as<toml::table>("metrics")) {
    CheckKeys(*metrics, "metrics", {"per_line", "token"});
    if (auto n = metrics->get("per_line")) {
      c.metrics_per_line = Value<bool>(*n, "metrics.per_line", "true or false");
    }
    if (auto n = metrics->get("token")) {
      c.metrics_token = Value<std::string>(*n, "metrics.token", "a string");
    }
  }
}

void ApplyTable(Config& c, const toml::table& root, const std::string& path);

void ApplyFile(Config& c, const std::string& path) {
  toml::table root;
  try {
    root = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    Fail(path, std::string(e.description()) + " at line " + std::to_string(e.source().begin.line));
  }
  ApplyTable(c, root, path);
}

void ApplyTable(Config& c, const toml::table& root, const std::string& path) {
  CheckKeys(root, path,
            {"data_dir",  "listen",    "threads",    "max_body_bytes", "blocked_numbers",
             "bootstrap", "log_level", "log_format", "lines",          "rate_limits",
             "sim",       "webhooks",  "public_url", "media",          "database_url",
             "cluster",   "http",      "events",     "console",        "auth",
             "metrics",   "contacts",  "store",      "inbound",        "tls"});
  ReadBounds(root, c);
  if (auto* tls = root.get_as<toml::table>("tls")) {
    CheckKeys(*tls, "tls", {"cert_file", "key_file"});
    if (auto n = tls->get("cert_file")) {
      c.tls_cert_file = Value<std::string>(*n, "tls.cert_file", "a path to a PEM certificate");
    }
    if (auto n = tls->get("key_file")) {
      c.tls_key_file = Value<std::string>(*n, "tls.key_file", "a path to a PEM private key");
    }
  }
  if (auto n = root.get("database_url")) {
    c.database_url = Value<std::string>(*n, "database_url", "a URL postgresql://...");
  }
  if (auto* cluster = root.get_as<toml::table>("cluster")) {
    CheckKeys(*cluster, "cluster", {"node_id", "lease_ttl", "lease_renew"});
    if (auto n = cluster->get("node_id")) {
      c.node_id = Value<std::string>(*n, "cluster.node_id", "a string");
    }
    if (auto n = cluster->get("lease_ttl")) c.lease_ttl = DurationValue(*n, "cluster.lease_ttl");
    if (auto n = cluster->get("lease_renew")) {
      c.lease_renew = DurationValue(*n, "cluster.lease_renew");
    }
  }
  if (auto n = root.get("data_dir")) c.data_dir = Value<std::string>(*n, "data_dir", "a string");
  if (auto n = root.get("listen"))
    c.listen = Value<std::string>(*n, "listen", "a string \"HOST:PORT\"");
  if (auto n = root.get("threads"))
    c.threads = static_cast<int>(Value<int64_t>(*n, "threads", "a whole number"));
  if (auto n = root.get("max_body_bytes"))
    c.max_body_bytes = static_cast<size_t>(Value<int64_t>(*n, "max_body_bytes", "a whole number"));
  if (auto n = root.get("bootstrap")) c.bootstrap = Value<bool>(*n, "bootstrap", "true or false");
  if (auto n = root.get("log_level")) c.log_level = Value<std::string>(*n, "log_level", "a string");
  if (auto n = root.get("log_format")) {
    c.log_format = Value<std::string>(*n, "log_format", "\"text\" or \"json\"");
  }
  if (auto n = root.get("blocked_numbers")) {
    auto* arr = n->as_array();
    if (!arr) Fail("blocked_numbers", "expected an array of strings");
    for (const auto& e : *arr)
      c.blocked_numbers.push_back(Value<std::string>(e, "blocked_numbers", "a string"));
  }
  if (auto* lines = root.get_as<toml::table>("lines")) {
    ReadLimits(*lines, "lines", c.line_defaults, true);
    if (auto* ov = lines->get_as<toml::table>("overrides")) {
      for (const auto& [number, v] : *ov) {
        auto* t = v.as_table();
        const std::string where = "lines.overrides.\"" + std::string(number.str()) + "\"";
        if (!t) Fail(where, "expected a table");
        queue::LineLimits l = c.line_defaults;
        toml::table limits = *t;
        if (auto* opts = t->get("options")) {
          // The line's carrier settings, the same keys as `bluegate lines add --option`.
          auto* table = opts->as_table();
          if (!table) Fail(where + ".options", "expected a table of carrier options");
          carriers::CarrierOptions& out = c.line_options[std::string(number.str())];
          for (const auto& [key, value] : *table) {
            const std::string k(key.str());
            if (auto str = value.value_exact<std::string>()) {
              out[k] = *str;
            } else if (auto i = value.value_exact<int64_t>()) {
              out[k] = std::to_string(*i);
            } else if (auto b = value.value_exact<bool>()) {
              out[k] = *b ? "true" : "false";
            } else {
              Fail(where + ".options." + k, "expected a string, a number or true/false");
            }
          }
          limits.erase("options");
        }
        if (auto* with = t->get("shared_with")) {
          // More accounts a shared line serves (as `bluegate lines attach` does), by email.
          auto* arr = with->as_array();
          if (!arr) Fail(where + ".shared_with", "expected an array of account emails");
          auto& out = c.line_shared_with[std::string(number.str())];
          for (const auto& e : *arr) {
            out.push_back(Value<std::string>(e, where + ".shared_with", "an account's email"));
          }
          limits.erase("shared_with");
        }
        ReadLimits(limits, where, l, false);
        c.line_overrides[std::string(number.str())] = l;
      }
    }
  }
  if (auto n = root.get("public_url")) {
    c.public_url =
        Value<std::string>(*n, "public_url", "a URL such as \"https://sms.example.com\"");
    while (!c.public_url.empty() && c.public_url.back() == '/') c.public_url.pop_back();
  }
  if (auto* limits = root.get_as<toml::table>("rate_limits")) {
    // A rule given here replaces the default rule with the same pattern.
    for (const auto& [pattern, v] : *limits) {
      const std::string key(pattern.str());
      const std::string where = "rate_limits.\"" + key + "\"";
      const std::string text =
          v.is_integer() ? std::to_string(*v.value<int64_t>())
                         : Value<std::string>(v, where, "a limit such as \"100/10s\" or \"none\"");
      auto rule = api::ParseRateRule(key, text);
      if (!rule || key.find(' ') == std::string::npos) {
        Fail(where,
             "expected a key \"METHOD /path\" (or /prefix*) and a limit such as "
             "\"100/10s\" or \"none\"");
      }
      std::erase_if(c.rate_limits, [&key](const api::RateRule& r) { return r.pattern == key; });
      c.rate_limits.push_back(*rule);
    }
  }
  if (auto* sim = root.get_as<toml::table>("sim")) {
    CheckKeys(*sim, "sim",
              {"sent_delay", "delivered_delay", "read_delay", "slow_delay", "reply_delay"});
    if (auto n = sim->get("sent_delay")) c.sim.sent_delay = DurationValue(*n, "sim.sent_delay");
    if (auto n = sim->get("delivered_delay"))
      c.sim.delivered_delay = DurationValue(*n, "sim.delivered_delay");
    if (auto n = sim->get("read_delay")) c.sim.read_delay = DurationValue(*n, "sim.read_delay");
    if (auto n = sim->get("slow_delay")) c.sim.slow_delay = DurationValue(*n, "sim.slow_delay");
    if (auto n = sim->get("reply_delay")) c.sim.reply_delay = DurationValue(*n, "sim.reply_delay");
  }
  if (auto* wh = root.get_as<toml::table>("webhooks")) {
    CheckKeys(*wh, "webhooks",
              {"timeout", "retry_schedule", "allow_loopback", "allow_private",
               "max_connections_per_endpoint", "ca_file", "verify_tls", "retention", "max_per_type",
               "max_per_account"});
    if (auto n = wh->get("max_per_type"))
      c.webhooks_max_per_type = Positive(*n, "webhooks.max_per_type");
    if (auto n = wh->get("max_per_account")) {
      c.webhooks_max_per_account = Positive(*n, "webhooks.max_per_account");
    }
    if (auto n = wh->get("retention"))
      c.webhook_retention = DurationValue(*n, "webhooks.retention");
    if (auto n = wh->get("ca_file")) {
      c.webhook_ca_file = Value<std::string>(*n, "webhooks.ca_file", "a path to a PEM file");
    }
    if (auto n = wh->get("verify_tls")) {
      c.webhook_verify_tls = Value<bool>(*n, "webhooks.verify_tls", "true or false");
    }
    if (auto n = wh->get("timeout")) c.webhook_timeout = DurationValue(*n, "webhooks.timeout");
    if (auto n = wh->get("allow_loopback"))
      c.webhook_allow_loopback = Value<bool>(*n, "webhooks.allow_loopback", "true or false");
    if (auto n = wh->get("allow_private"))
      c.webhook_allow_private = Value<bool>(*n, "webhooks.allow_private", "true or false");
    if (auto n = wh->get("max_connections_per_endpoint")) {
      c.webhook_max_connections = static_cast<size_t>(
          Value<int64_t>(*n, "webhooks.max_connections_per_endpoint", "a whole number"));
    }
    if (auto n = wh->get("retry_schedule")) {
      auto* arr = n->as_array();
      if (!arr || arr->empty())
        Fail("webhooks.retry_schedule", "expected a non-empty array of durations");
      std::vector<Millis> delays;
      for (const auto& e : *arr) delays.push_back(DurationValue(e, "webhooks.retry_schedule"));
      c.webhook_schedule = RetrySchedule(std::move(delays));
    }
  }
}

void ApplyEnv(Config& c) {
  if (const char* v = std::getenv("BLUEGATE_DATA_DIR"); v && *v) c.data_dir = v;
  if (const char* v = std::getenv("BLUEGATE_LISTEN"); v && *v) c.listen = v;
  if (const char* v = std::getenv("BLUEGATE_LOG_LEVEL"); v && *v) c.log_level = v;
  if (const char* v = std::getenv("BLUEGATE_LOG_FORMAT"); v && *v) c.log_format = v;
  if (const char* v = std::getenv("BLUEGATE_DATABASE_URL"); v && *v) c.database_url = v;
  if (const char* v = std::getenv("BLUEGATE_CONSOLE_OPERATOR_TOKEN"); v && *v) {
    c.console_operator_token = v;
  }
  if (const char* v = std::getenv("BLUEGATE_NODE_ID"); v && *v) c.node_id = v;
  if (const char* v = std::getenv("BLUEGATE_METRICS_TOKEN"); v && *v) c.metrics_token = v;
  if (const char* v = std::getenv("BLUEGATE_TLS_CERT_FILE"); v && *v) c.tls_cert_file = v;
  if (const char* v = std::getenv("BLUEGATE_TLS_KEY_FILE"); v && *v) c.tls_key_file = v;
  if (const char* v = std::getenv("BLUEGATE_THREADS"); v && *v) {
    int n = 0;
    auto [p, ec] = std::from_chars(v, v + std::strlen(v), n);
    if (ec != std::errc() || n < 0) Fail("BLUEGATE_THREADS", "expected a whole number");
    c.threads = n;
  }
}

}  // namespace

Config ParseConfigText(std::string_view text, const std::string& name) {
  Config c;
  toml::table root;
  try {
    root = toml::parse(text, name);
  } catch (const toml::parse_error& e) {
    Fail(name, std::string(e.description()) + " at line " + std::to_string(e.source().begin.line));
  }
  ApplyTable(c, root, name);
  CheckConfig(c);
  return c;
}

Config LoadConfig(const std::optional<std::string>& path) {
  Config c;
  std::optional<std::string> file = path;
  if (!file) {
    if (const char* v = std::getenv("BLUEGATE_CONFIG"); v && *v) file = v;
  }
  if (file) {
    ApplyFile(c, *file);
    c.config_file = *file;
  }
  ApplyEnv(c);
  CheckConfig(c);
  return c;
}

std::vector<std::string> ChangedKeys(std::string_view before, std::string_view after) {
  auto parse = [](std::string_view text) {
    try {
      return toml::parse(text);
    } catch (const toml::parse_error&) {
      return toml::table{};
    }
  };
  std::vector<std::string> out;
  // Keys whose values differ, as dotted paths; a table is walked, anything else compared whole.
  auto walk = [&out](auto& self, const toml::table& a, const toml::table& b,
                     const std::string& prefix) -> void {
    std::set<std::string> keys;
    for (const auto& [k, v] : a) keys.insert(std::string(k.str()));
    for (const auto& [k, v] : b) keys.insert(std::string(k.str()));
    for (const auto& k : keys) {
      const toml::node* x = a.get(k);
      const toml::node* y = b.get(k);
      const std::string path = prefix.empty() ? k : prefix + "." + k;
      const toml::table none;
      const toml::table* tx = x ? x->as_table() : (y && y->is_table() ? &none : nullptr);
      const toml::table* ty = y ? y->as_table() : (x && x->is_table() ? &none : nullptr);
      if (tx && ty) {
        self(self, *tx, *ty, path);  // a table added or removed names each of its keys
      } else if (toml::node_view<const toml::node>(x) != toml::node_view<const toml::node>(y)) {
        out.push_back(path);
      }
    }
  };
  walk(walk, parse(before), parse(after), "");
  return out;
}

void CheckConfig(const Config& c) {
  if (!c.database_url.empty() && c.database_url.rfind("postgresql://", 0) != 0 &&
      c.database_url.rfind("postgres://", 0) != 0) {
    Fail("database_url",
         "expected a PostgreSQL URL such as postgresql://bluegate@127.0.0.1:5432/bluegate (leave "
         "it unset for SQLite in data_dir)");
  }
  if (c.log_format != "text" && c.log_format != "json") {
    Fail("log_format", "expected \"text\" or \"json\" (BLUEGATE_LOG_FORMAT)");
  }
  if (c.tls_cert_file.empty() != c.tls_key_file.empty()) {
    Fail(c.tls_cert_file.empty() ? "tls.cert_file" : "tls.key_file",
         "HTTPS needs both tls.cert_file and tls.key_file (BLUEGATE_TLS_CERT_FILE, "
         "BLUEGATE_TLS_KEY_FILE)");
  }
  if (!c.console_operator_token.empty() && c.console_operator_token.size() < 24) {
    Fail("console.operator_token",
         "must be at least 24 characters (BLUEGATE_CONSOLE_OPERATOR_TOKEN); for example the "
         "output of `openssl rand -hex 16`");
  }
  if (c.lease_ttl < Millis(1000)) Fail("cluster.lease_ttl", "must be at least 1s");
  if (c.lease_renew <= Millis(0) || c.lease_renew * 3 > c.lease_ttl) {
    Fail("cluster.lease_renew", "must be positive and at most a third of cluster.lease_ttl");
  }
}

bool Config::LoopbackTargetsAllowed() const {
  if (webhook_allow_loopback) return *webhook_allow_loopback;
  try {
    boost::system::error_code ec;
    const auto addr = boost::asio::ip::make_address(SplitHostPort(listen).first, ec);
    return !ec && addr.is_loopback();
  } catch (const std::runtime_error&) {
    return false;
  }
}

std::pair<std::string, uint16_t> SplitHostPort(const std::string& listen) {
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon + 1 == listen.size()) {
    throw std::runtime_error("listen address \"" + listen +
                             "\" must be HOST:PORT, such as 127.0.0.1:8080");
  }
  std::string host = listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  if (host.empty() || host == "localhost") host = host.empty() ? "0.0.0.0" : "127.0.0.1";
  unsigned port = 0;
  const std::string p = listen.substr(colon + 1);
  auto [ptr, ec] = std::from_chars(p.data(), p.data() + p.size(), port);
  if (ec != std::errc() || ptr != p.data() + p.size() || port > 65535) {
    throw std::runtime_error("listen address \"" + listen + "\" has an invalid port");
  }
  return {host, static_cast<uint16_t>(port)};
}

}  // namespace bluegate::app
