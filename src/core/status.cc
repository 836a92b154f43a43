#include "core/status.h"

#include <array>
#include <utility>

namespace bluegate {
namespace {

constexpr std::array<std::pair<Status, std::string_view>, 9> kNames{{
    {Status::kRegistered, "REGISTERED"},
    {Status::kPending, "PENDING"},
    {Status::kQueued, "QUEUED"},
    {Status::kAccepted, "ACCEPTED"},
    {Status::kSent, "SENT"},
    {Status::kDelivered, "DELIVERED"},
    {Status::kDeclined, "DECLINED"},
    {Status::kError, "ERROR"},
    {Status::kReceived, "RECEIVED"},
}};

// Position on the forward path; exits have no rank.
int Rank(Status s) {
  switch (s) {
    case Status::kRegistered:
      return 0;
    case Status::kPending:
      return 1;
    case Status::kQueued:
      return 2;
    case Status::kAccepted:
      return 3;
    case Status::kSent:
      return 4;
    case Status::kDelivered:
      return 5;
    default:
      return -1;
  }
}

}  // namespace

std::string_view StatusName(Status s) { return kNames[static_cast<size_t>(s)].second; }

std::optional<Status> StatusFromName(std::string_view name) {
  for (const auto& [status, n] : kNames) {
    if (n == name) return status;
  }
  return std::nullopt;
}

std::string_view ServiceName(Service s) { return s == Service::kSms ? "SMS" : "iMessage"; }

std::optional<Service> ServiceFromName(std::string_view name) {
  if (name == "iMessage") return Service::kIMessage;
  if (name == "SMS") return Service::kSms;
  return std::nullopt;
}

bool IsFinal(Status s, Service service) {
  switch (s) {
    case Status::kDelivered:
    case Status::kDeclined:
    case Status::kError:
    case Status::kReceived:
      return true;
    case Status::kSent:
      return service == Service::kSms;
    default:
      return false;
  }
}

bool CanTransition(Status from, Status to, Service service, bool receipt) {
  if (receipt && from == Status::kSent && service == Service::kSms) {
    return to == Status::kDelivered || to == Status::kError;
  }
  if (IsFinal(from, service) || to == Status::kReceived) return false;
  if (to == Status::kDeclined || to == Status::kError) return true;
  return Rank(to) > Rank(from);
}

}  // namespace bluegate
