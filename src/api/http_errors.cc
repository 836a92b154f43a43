#include "api/http_errors.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace bluegate::api {
namespace {

int HttpStatusFor(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kInvalidArgument:
    case ErrorKind::kBlocked:
      return 400;
    case ErrorKind::kUnauthenticated:
      return 401;
    case ErrorKind::kNotFound:
      return 404;
    case ErrorKind::kConflict:
      return 409;  // with x-should-retry: false, so the SDK does not retry it
    case ErrorKind::kTooLarge:
      return 413;
    case ErrorKind::kThrottled:
      return 429;
    case ErrorKind::kNotImplemented:
      return 501;
    case ErrorKind::kStorageFailure:
    case ErrorKind::kOverloaded:
    case ErrorKind::kDisconnected:
    case ErrorKind::kUnknownOutcome:
      return 503;
    case ErrorKind::kRejected:
      return 400;
    case ErrorKind::kInternal:
      return 500;
  }
  return 500;
}

std::optional<ErrorCode> DefaultCode(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kInvalidArgument:
    case ErrorKind::kConflict:
      return ErrorCode::kValidation;
    case ErrorKind::kBlocked:
      return ErrorCode::kBlacklisted;
    case ErrorKind::kThrottled:
      return ErrorCode::kRateLimitExceeded;
    case ErrorKind::kStorageFailure:
    case ErrorKind::kOverloaded:
    case ErrorKind::kDisconnected:
    case ErrorKind::kUnknownOutcome:
      return ErrorCode::kServerRateExceeded;
    case ErrorKind::kInternal:
      return ErrorCode::kInternal;
    default:
      return std::nullopt;
  }
}

}  // namespace

HttpResponse JsonResponse(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

HttpResponse ErrorResponse(const Error& error) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("status");
  w.String("ERROR");
  w.Key("message");
  w.String(error.message.data(), static_cast<rapidjson::SizeType>(error.message.size()));
  // The same text where Sendblue's docs tell clients to look ("see the error_message field").
  w.Key("error_message");
  w.String(error.message.data(), static_cast<rapidjson::SizeType>(error.message.size()));
  w.Key("error_code");
  const auto code = error.code ? error.code : DefaultCode(error.kind);
  if (!code) {
    w.Null();
  } else if (*code == ErrorCode::kSmsLimitReached) {
    w.String("SMS_LIMIT_REACHED");
  } else {
    w.Int(static_cast<int>(*code));
  }
  w.EndObject();
  HttpResponse r =
      JsonResponse(HttpStatusFor(error.kind), std::string(buf.GetString(), buf.GetSize()));
  if (error.retry_after.count() > 0 || r.status == 429 || r.status == 503) {
    const auto seconds = std::max<int64_t>(1, (error.retry_after.count() + 999) / 1000);
    r.headers.emplace_back("Retry-After", std::to_string(seconds));
  }
  if (r.status == 409) r.headers.emplace_back("x-should-retry", "false");
  return r;
}

}  // namespace bluegate::api
