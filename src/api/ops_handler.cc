// GET /healthz, /readyz and /metrics: for operators, not part of Sendblue's API.
#include <openssl/crypto.h>

#include "api/api.h"
#include "api/http_errors.h"

namespace bluegate::api {

HttpResponse HandleHealth(ApiContext&) { return JsonResponse(200, R"({"status":"OK"})"); }

HttpResponse HandleReady(ApiContext& ctx) {
  if (!ctx.store.log.healthy()) {
    return ErrorResponse(
        Error::Storage("The store cannot commit (see the log): a full disk resumes by itself once "
                       "there is room; another storage failure needs a restart"));
  }
  return JsonResponse(200, R"({"status":"OK"})");
}

HttpResponse HandleMetrics(ApiContext& ctx, const HttpRequest& req) {
  if (const std::string& token = ctx.limits.metrics_token; !token.empty()) {
    const std::string expected = "Bearer " + token;
    const auto given = req.Header("authorization").value_or("");
    if (given.size() != expected.size() ||
        CRYPTO_memcmp(given.data(), expected.data(), expected.size()) != 0) {
      return ErrorResponse(Error{ErrorKind::kUnauthenticated,
                                 "/metrics needs \"Authorization: Bearer <metrics.token>\"",
                                 std::nullopt,
                                 {}});
    }
  }
  HttpResponse r;
  r.status = 200;
  r.content_type = "text/plain; version=0.0.4";
  r.body = ctx.metrics.RenderPrometheus();
  return r;
}

}  // namespace bluegate::api
