// The one place that builds everything: reading wiring.cc shows every store, carrier and
// component the binary has and how they connect.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "app/config.h"
#include "app/data.h"
#include "core/result.h"
#include "store/store.h"

namespace bluegate::app {

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
  void PollStop();       // on the io_context, after RequestStop
  void WaitForReload();  // SIGHUP
  void CheckStreams();   // every second: end the event streams of revoked keys
  // What the URLs of served media (and the carriers' callbacks) start with: public_url, or
  // http://<the listener> ("" before it listens).
  std::string MediaBaseUrl() const;

  struct Parts;
  Config config_;
  std::string config_text_;  // the configuration file as it was last read (SIGHUP compares)
  std::unique_ptr<Parts> parts_;
  std::optional<Credentials> bootstrap_creds_;
};

}  // namespace bluegate::app
