// The one place where an Error becomes an HTTP status and the error envelope of SPEC.md §1:
// {"status":"ERROR","message":"...","error_code":...}.
#pragma once

#include "api/http_types.h"
#include "core/result.h"

namespace bluegate::api {

HttpResponse ErrorResponse(const Error& error);
HttpResponse JsonResponse(int status, std::string body);

}  // namespace bluegate::api
