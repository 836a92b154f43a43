#include "carriers/smpp/smpp_carrier.h"

#include "carriers/smpp/session.h"

namespace bluegate::carriers::smpp {
namespace {

class SmppCarrier final : public Carrier {
 public:
  explicit SmppCarrier(std::shared_ptr<Session> session) : session_(std::move(session)) {
    session_->Start();
  }
  ~SmppCarrier() override { session_->Stop(); }

  void Submit(OutboundMessage m, std::function<void(SubmitResult)> done) override {
    session_->Submit(std::move(m), std::move(done));
  }

  // A submit whose response never came may or may not have reached the SMSC, and SMPP cannot
  // ask without its id: the line's policy decides (see OnUnknown).
  void Reconcile(OutboundMessage m,
                 std::function<void(std::optional<ReconcileResult>)> done) override {
    if (session_->settings().on_unknown == OnUnknown::kResubmit) return done(std::nullopt);
    ReconcileResult r;
    r.status = Status::kError;
    r.service = Service::kSms;
    r.error = MessageError{ErrorCode::kFailedToResolve, "The carrier did not confirm the message",
                           "carrier_unknown",
                           "no submit_sm_resp for " + m.handle +
                               "; it may or may not have reached the phone (on_unknown=fail)"};
    done(std::move(r));
  }

  void Lookup(std::string, std::function<void(LookupResult)> done) override {
    done(LookupResult{Service::kSms, {}});
  }

  void Send(Signal s, std::function<void(Result<Ok>)> done) override {
    done(Error{ErrorKind::kRejected,
               s.to + " is reached over SMS, which has no typing indicators, read receipts or "
                      "reactions",
               ErrorCode::kValidation,
               {}});
  }

  std::string_view name() const override { return "smpp"; }
  bool CarriesIMessage() const override { return false; }

  int Segments(const OutboundMessage& m) const override { return CountSegments(SmsText(m)); }

 private:
  std::shared_ptr<Session> session_;
};

}  // namespace

Result<SmppSettings> ParseSmppSettings(const CarrierOptions& o) {
  if (auto r = CheckCarrierOptions("smpp", o); !r.ok()) return r.error();
  SmppSettings s;
  s.host = StringOption(o, "host");
  s.system_id = StringOption(o, "system_id");
  s.password = StringOption(o, "password");
  s.system_type = StringOption(o, "system_type");
  s.address_range = StringOption(o, "address_range");
  s.ca_file = StringOption(o, "ca_file");
  if (s.host.empty()) return Error::Invalid("option host must not be empty");
  if (s.system_id.size() > 15) return Error::Invalid("option system_id is over 15 characters");
  if (s.password.size() > 8) return Error::Invalid("option password is over 8 characters");
  if (s.system_type.size() > 12) return Error::Invalid("option system_type is over 12 characters");
  if (s.address_range.size() > 40)
    return Error::Invalid("option address_range is over 40 characters");
#define BG_OPT(dst, expr)                         \
  do {                                            \
    auto r_ = (expr);                             \
    if (!r_.ok()) return r_.error();              \
    dst = static_cast<decltype(dst)>(r_.value()); \
  } while (0)
  BG_OPT(s.port, IntOption(o, "port", 2775, 1, 65535));
  BG_OPT(s.tls, BoolOption(o, "tls", false));
  BG_OPT(s.tls_verify, BoolOption(o, "tls_verify", true));
  BG_OPT(s.window, IntOption(o, "window", 10, 1, 1000));
  BG_OPT(s.throughput, IntOption(o, "throughput", 0, 0, 1'000'000));
  BG_OPT(s.source_ton, IntOption(o, "source_ton", 1, 0, 6));
  BG_OPT(s.source_npi, IntOption(o, "source_npi", 1, 0, 18));
  BG_OPT(s.dest_ton, IntOption(o, "dest_ton", 1, 0, 6));
  BG_OPT(s.dest_npi, IntOption(o, "dest_npi", 1, 0, 18));
  BG_OPT(s.receipts, BoolOption(o, "receipts", true));
  BG_OPT(s.enquire_link, DurationOption(o, "enquire_link", s.enquire_link));
  BG_OPT(s.response_timeout, DurationOption(o, "response_timeout", s.response_timeout));
#undef BG_OPT
  const std::string unknown = StringOption(o, "on_unknown", "resubmit");
  if (unknown == "resubmit") {
    s.on_unknown = OnUnknown::kResubmit;
  } else if (unknown == "fail") {
    s.on_unknown = OnUnknown::kFail;
  } else {
    return Error::Invalid("option on_unknown must be resubmit or fail, not \"" + unknown + "\"");
  }
  return s;
}

std::unique_ptr<Carrier> MakeSmppCarrier(asio::io_context& io, CarrierSink& sink, Clock& clock,
                                         SmppSettings settings, std::string line) {
  return std::make_unique<SmppCarrier>(
      std::make_shared<Session>(io, sink, clock, std::move(settings), std::move(line)));
}

}  // namespace bluegate::carriers::smpp
