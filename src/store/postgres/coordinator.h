// The scale-out Coordinator (store/coordinator.h) on PostgreSQL.
#pragma once

#include <memory>
#include <string>

#include "store/coordinator.h"

namespace bluegate::store {

// Connects lazily (a server that is down now is retried on each call). `address`: where this
// node's API listens, shown by GET /api/v2/nodes.
std::unique_ptr<Coordinator> MakeCoordinator(const std::string& url, const std::string& node_id,
                                             const std::string& address);

}  // namespace bluegate::store
