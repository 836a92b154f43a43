// What the server and the admin commands share of the data: opening the store (and the private
// data directory), accounts and their keys, and reading a line's options and limits as the
// server does.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "app/config.h"
#include "carriers/options.h"
#include "core/result.h"
#include "queue/outbound.h"
#include "store/store.h"

namespace bluegate::app {

// Creates the data directory if need be, private: 0700, its files 0600, and a umask that keeps
// files made later so.
void PrivateDataDir(const std::string& dir);

// Opens the store of `config` (creating the data directory). Throws on failure.
std::unique_ptr<store::Store> OpenStore(const Config& config);

struct Credentials {
  std::string email;
  std::string key_id;
  std::string secret;
};

// Attaches the accounts the configuration's [lines.overrides."+1..."] shared_with names to their
// shared lines (a line not shared, or a line or account that does not exist, is logged and
// skipped). The server does this when it starts.
void AttachConfiguredAccounts(const Config& config, store::Store& store);

// A plan name: 1 to 64 of [A-Za-z0-9._-].
Result<Ok> CheckPlan(std::string_view plan);

// Adds an API key to `account`. A key id or secret left empty is generated; a key id is 1 to 128
// of [A-Za-z0-9._-], a chosen secret 8 to 256 visible ASCII characters.
Result<Credentials> AddKey(store::Store& store, const store::Account& account, std::string key_id,
                           std::string secret);

// Creates an account and its first API key (as AddKey).
Result<Credentials> CreateAccount(store::Store& store, std::string_view email,
                                  std::string_view plan, std::string key_id, std::string secret);

// A line's carrier options: the config file's for its number, then the ones stored by
// `bluegate lines add|set --option`, which win.
Result<carriers::CarrierOptions> EffectiveOptions(const Config& config, const store::Line& line);

// Checks a line's carrier and options as the server will read them (keys and values).
Result<Ok> CheckLineCarrier(const std::string& carrier, const carriers::CarrierOptions& options);

// The line limits the configuration gives (before each line's own settings).
queue::QueueSettings QueueSettingsOf(const Config& config);

}  // namespace bluegate::app
