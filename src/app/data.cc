#include "app/data.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <filesystem>

#include "api/auth.h"
#include "carriers/registry.h"
#include "core/ids.h"
#include "core/text.h"
#include "store/postgres/postgres_store.h"
#include "store/sqlite/sqlite_store.h"

namespace bluegate::app {

Result<carriers::CarrierOptions> EffectiveOptions(const Config& config, const store::Line& line) {
  carriers::CarrierOptions out;
  if (auto it = config.line_options.find(line.number); it != config.line_options.end()) {
    out = it->second;
  }
  auto stored = carriers::OptionsFromJson(line.options_json);
  if (!stored.ok()) return stored.error();
  for (auto& [k, v] : stored.value()) out[k] = v;
  return out;
}

Result<Ok> CheckLineCarrier(const std::string& carrier, const carriers::CarrierOptions& options) {
  return carriers::CheckLineOptions(carrier, options);
}

// The data directory holds the database, API key hashes, webhook secrets and media: 0700, its
// files 0600, and files made later inherit that through the process's umask.
void PrivateDataDir(const std::string& dir) {
  ::umask(0077);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw std::runtime_error("cannot create data directory " + dir + ": " + ec.message());
  namespace fs = std::filesystem;
  fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace, ec);
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    std::error_code ignored;
    if (entry.is_regular_file(ignored)) {
      fs::permissions(entry.path(), fs::perms::owner_read | fs::perms::owner_write,
                      fs::perm_options::replace, ignored);
    } else if (entry.is_directory(ignored)) {
      fs::permissions(entry.path(), fs::perms::owner_all, fs::perm_options::replace, ignored);
    }
  }
}

queue::QueueSettings QueueSettingsOf(const Config& config) {
  queue::QueueSettings qs;
  qs.defaults = config.line_defaults;
  qs.per_line = config.line_overrides;
  return qs;
}

std::unique_ptr<store::Store> OpenStore(const Config& config) {
  if (config.clustered()) {
    store::PostgresSettings settings;
    settings.url = config.database_url;
    settings.node_id = config.node_id;
    settings.max_pending = config.store_max_queued_writes;
    settings.lazy_commit_delay = config.store_lazy_commit_delay;
    settings.max_unrouted_per_line = config.inbound_max_unrouted_per_line;
    return store::MakePostgresStore(settings, SystemClock());
  }
  PrivateDataDir(config.data_dir);
  store::SqliteSettings settings;
  settings.path = config.database_path();
  settings.max_pending = config.store_max_queued_writes;
  settings.lazy_commit_delay = config.store_lazy_commit_delay;
  settings.wal_max_bytes = config.store_wal_max_bytes;
  settings.max_unrouted_per_line = config.inbound_max_unrouted_per_line;
  return store::MakeSqliteStore(settings, SystemClock());
}

void AttachConfiguredAccounts(const Config& config, store::Store& store) {
  const queue::QueueSettings qs = QueueSettingsOf(config);
  for (const auto& [number, emails] : config.line_shared_with) {
    const std::string key = "lines.overrides.\"" + number + "\".shared_with";
    auto line = store.FindLine(number);
    if (!line.ok()) {
      spdlog::warn("{}: there is no line {} yet; nothing attached", key, number);
      continue;
    }
    if (!queue::EffectiveLimits(qs, line.value()).shared) {
      spdlog::warn(
          "{}: line {} is not shared (shared = true, or bluegate lines set --shared "
          "true); nothing attached",
          key, number);
      continue;
    }
    for (const auto& email : emails) {
      auto account = store.FindAccountByEmail(email);
      if (!account.ok()) {
        spdlog::warn("{}: no account with email {}", key, ForLog(email));
        continue;
      }
      if (line->Serves(account->id)) continue;
      if (auto r = store.ShareLine(number, account->id, true); !r.ok()) {
        spdlog::warn("{}: {}", key, r.error().message);
      } else {
        spdlog::info("line {} now serves {} ({})", number, ForLog(email), key);
      }
    }
  }
}

namespace {

bool Plain(std::string_view s, size_t max) {
  return !s.empty() && s.size() <= max && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
  });
}

}  // namespace

Result<Ok> CheckPlan(std::string_view plan) {
  if (!Plain(plan, 64)) {
    return Error::Invalid("--plan must be 1 to 64 letters, digits, '.', '_' or '-'");
  }
  return Ok{};
}

Result<Credentials> AddKey(store::Store& store, const store::Account& account, std::string key_id,
                           std::string secret) {
  if (key_id.empty()) key_id = SecureIds().RandomHex(16);
  if (!Plain(key_id, 128)) {
    return Error::Invalid("--key-id must be 1 to 128 letters, digits, '.', '_' or '-'");
  }
  // A secret bluegate makes has 192 random bits: a fast HMAC is enough. One a person chose may be
  // guessable, so it is kept as a slow scrypt hash (the request path caches the verified secret).
  const bool chosen = !secret.empty();
  if (!chosen) secret = SecureIds().RandomHex(24);
  if (secret.size() < 8 || secret.size() > 256 ||
      !std::all_of(secret.begin(), secret.end(), [](char c) { return c > ' ' && c < 127; })) {
    return Error::Invalid(
        "--secret must be 8 to 256 visible ASCII characters (no spaces); omit it to have one "
        "generated");
  }
  if (auto taken = store.FindApiKey(key_id); taken.ok()) {
    return Error::Invalid("the key id " + key_id + " is taken");
  }
  store::ApiKey key;
  key.key_id = key_id;
  key.account_id = account.id;
  key.salt = SecureIds().RandomHex(16);
  key.secret_hash = chosen ? api::Authenticator::HashChosenSecret(key.salt, secret)
                           : api::Authenticator::HashSecret(key.salt, secret);
  if (auto r = store.AddApiKey(key); !r.ok()) {
    if (r.error().kind == ErrorKind::kInvalidArgument)
      return Error::Invalid("the key id " + key_id + " is taken");
    return r.error();
  }
  return Credentials{account.email, key_id, secret};
}

Result<Credentials> CreateAccount(store::Store& store, std::string_view email,
                                  std::string_view plan, std::string key_id, std::string secret) {
  if (email.empty() || email.size() > 254 || email.find('@') == std::string_view::npos ||
      !std::all_of(email.begin(), email.end(), [](char c) { return c > ' ' && c < 127; })) {
    return Error::Invalid("--email must be an email address");
  }
  if (auto ok = CheckPlan(plan); !ok.ok()) return ok.error();
  if (!key_id.empty() && store.FindApiKey(key_id).ok()) {
    return Error::Invalid("the key id " + key_id + " is taken");  // before the account is made
  }
  auto account = store.CreateAccount(email, plan);
  if (!account.ok()) {
    if (account.error().kind == ErrorKind::kInvalidArgument) {
      return Error::Invalid("an account with email " + std::string(email) + " already exists");
    }
    return account.error();
  }
  return AddKey(store, account.value(), std::move(key_id), std::move(secret));
}

}  // namespace bluegate::app
