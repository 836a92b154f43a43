// Errors as values. ErrorKind is the small vocabulary that tells the caller what to do next; the
// retry policy switches on it, and api/http_errors.cc maps it to an HTTP status in one place.
#pragma once

#include <cassert>
#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <variant>

#include "core/error_code.h"

namespace bluegate {

enum class ErrorKind {
  kInvalidArgument,  // the caller sent something wrong; do not retry as is
  kBlocked,          // the recipient is on a blocklist (emergency or operator list)
  kUnauthenticated,  // missing or wrong credentials
  kNotFound,         // no such resource for this account
  kConflict,         // the resource already exists, or is in a state that forbids this
  kTooLarge,         // body or file over a configured cap
  kThrottled,        // over a limit; retry after `retry_after`
  kDisconnected,     // the peer is unreachable now; reconnect, then retry
  kRejected,         // the peer refused permanently
  kUnknownOutcome,   // the request may or may not have taken effect; reconcile
  kStorageFailure,   // the store could not commit; nothing more is accepted until it can
  kOverloaded,       // the server is saturated; retry after `retry_after`
  kNotImplemented,   // a Sendblue feature bluegate does not offer yet
  kInternal,         // a bug
};

struct Error {
  ErrorKind kind = ErrorKind::kInternal;
  std::string message;
  std::optional<ErrorCode> code;  // the wire error_code, when the kind alone does not decide it
  std::chrono::milliseconds retry_after{0};

  static Error Invalid(std::string msg) {
    return {ErrorKind::kInvalidArgument, std::move(msg), ErrorCode::kValidation, {}};
  }
  static Error NotFound(std::string msg) { return {ErrorKind::kNotFound, std::move(msg), {}, {}}; }
  static Error Storage(std::string msg) {
    return {ErrorKind::kStorageFailure, std::move(msg), ErrorCode::kServerRateExceeded,
            std::chrono::seconds(5)};
  }
  static Error Internal(std::string msg) {
    return {ErrorKind::kInternal, std::move(msg), ErrorCode::kInternal, {}};
  }
};

// Holds a T or an Error. Cheap to move; `value()` on an error is a bug (asserted).
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT: implicit by design
  Result(Error error) : v_(std::move(error)) {}  // NOLINT

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & {
    assert(ok());
    return std::get<0>(v_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<0>(v_);
  }
  // By value, so `for (auto& x : Fetch().value())` does not dangle.
  T value() && {
    assert(ok());
    return std::get<0>(std::move(v_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() { return value(); }
  const Error& error() const {
    assert(!ok());
    return std::get<1>(v_);
  }

 private:
  std::variant<T, Error> v_;
};

struct Ok {};

}  // namespace bluegate
