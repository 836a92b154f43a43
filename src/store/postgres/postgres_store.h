// The scale-out store: PostgreSQL, shared by every bluegate node of a deployment (the shared SQL
// store on the PostgreSQL engine; see docs/scale-out.md).
#pragma once

#include <memory>
#include <string>

#include "core/clock.h"
#include "store/store.h"

namespace bluegate::store {

struct PostgresSettings {
  std::string url;               // postgresql://user:password@host:port/database
  size_t max_batch = 4096;       // writes per transaction at most
  size_t max_pending = 100'000;  // writes waiting at most; past it one is refused (overloaded)
  // How long recorded webhook attempts alone wait to share a commit (store.lazy_commit_delay).
  Millis lazy_commit_delay{10};
  // The node this process is: the deliveries it writes are its own to dispatch (empty: an admin
  // command, whose deliveries any running node claims).
  std::string node_id;
  int64_t max_unrouted_per_line = 10'000;  // SqlEngine::max_unrouted_per_line
};

// Connects and migrates. Throws std::runtime_error when the server cannot be reached or the
// schema is newer than this binary.
std::unique_ptr<Store> MakePostgresStore(const PostgresSettings& settings, Clock& clock);

}  // namespace bluegate::store
