// The one place that builds everything: reading wiring.cc shows every store, carrier and
// component the binary has and how they connect.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "app/config.h"
#include "core/result.h"
#include "store/store.h"

namespace bluegate::app {

// Opens the store of `config` (creating the data directory). Throws on failure.
std::unique_ptr<store::Store> OpenStore(const Config& config);

struct Credentials {
  std::string email;
  std::string key_id;
  std::string secret;
};

// Creates an account and its first API key. A key id or secret left empty is generated.
// Attaches the accounts the configuration's [lines.overrides."+1..."] shared_with names to their
// shared lines (a line not shared, or a line or account that does not exist, is logged and
// skipped). The server does this when it starts.
void AttachConfiguredAccounts(const Config& config, store::Store& store);

Result<Credentials> CreateAccount(store::Store& store, std::string_view email,
                                  std::string_view plan, std::string key_id, std::string secret);

// A line's carrier options: the config file's for its number, then the ones stored by
// `bluegate lines add|set --option`, which win.
Result<carriers::CarrierOptions> EffectiveOptions(const Config& config, const store::Line& line);

// Checks a line's carrier and options as the server will read them (keys and values).
Result<Ok> CheckLineCarrier(const std::string& carrier, const carriers::CarrierOptions& options);

class Gateway {
 public:
  explicit Gateway(Config config);
  ~Gateway();

  // Opens the store, recovers, binds the listener. Throws on a startup failure.
  void Start();
  std::string local_address() const;
  // Serves until SIGINT/SIGTERM or RequestStop(), then stops gracefully: no new connections,
  // in-flight requests answered, the store flushed.
  void Run();
  void RequestStop();

 private:
  void PollStop();  // on the io_context, after RequestStop

  struct Parts;
  Config config_;
  std::unique_ptr<Parts> parts_;
  std::optional<Credentials> bootstrap_creds_;
};

}  // namespace bluegate::app
