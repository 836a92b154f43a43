// The delivery log's query parameters and JSON, shared by the API and `bluegate webhooks list`.
#pragma once

#include <map>
#include <string>

#include "core/result.h"
#include "store/store.h"

namespace bluegate::api {

// message_handle, url, outcome (pending|delivered|failed|disabled), limit (1–1000), offset.
Result<store::DeliveryQuery> ParseDeliveryQuery(const std::map<std::string, std::string>& params);

// {"status":"OK","data":[{id, message_handle, kind, url, status, outcome, attempts,
// next_attempt_at, updated_at, attempt_log:[{at, http_status, latency_ms, error}]}],
// "pagination":{total, limit, offset, hasMore}}
std::string RenderDeliveryPage(const store::DeliveryPage& page, const store::DeliveryQuery& q);

}  // namespace bluegate::api
