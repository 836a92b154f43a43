#include "carriers/sim/sim_carrier.h"

#include <memory>
#include <mutex>
#include <utility>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

namespace bluegate::carriers::sim {
namespace {

namespace asio = boost::asio;

class SimCarrier final : public Carrier {
 public:
  SimCarrier(asio::io_context& io, CarrierSink& sink, Clock& clock, const SimSettings& settings)
      : io_(io), sink_(sink), clock_(clock), settings_(settings) {}

  // Reports still timed when the line's carrier goes (its settings changed, or another node took
  // the line) are dropped: the destructor waits for one that is running.
  ~SimCarrier() override {
    std::lock_guard lock(life_->mu);
    life_->alive = false;
  }

  void Submit(OutboundMessage m, std::function<void(SubmitResult)> done) override {
    const SimBehaviour b = BehaviourFor(m.to);
    if (b == SimBehaviour::kFails) {
      done(SubmitResult{
          SubmitOutcome::kRejected, "simulated carrier failure for test number " + m.to, {}});
      return;
    }
    done(SubmitResult{SubmitOutcome::kAccepted, {}, {}});
    if (b == SimBehaviour::kNeverResolves) return;
    auto shared = std::make_shared<OutboundMessage>(std::move(m));
    After(settings_.sent_delay, [this, shared, b] {
      CarrierEvent sent = StatusEvent(*shared, Status::kSent);
      sent.service = b == SimBehaviour::kSmsOnly ? Service::kSms : Service::kIMessage;
      sent.was_downgraded = b == SimBehaviour::kSmsOnly;
      sink_.OnCarrierEvent(std::move(sent));
      if (b == SimBehaviour::kSmsOnly) return;  // SMS ends at SENT
      const Millis wait =
          b == SimBehaviour::kSlow ? settings_.slow_delay : settings_.delivered_delay;
      After(wait, [this, shared, b] {
        sink_.OnCarrierEvent(StatusEvent(*shared, Status::kDelivered));
        AfterDelivered(shared, b);
      });
    });
  }

  // The simulator is deterministic: the number alone says how the message ended. A number that
  // never resolves cannot be told, so it is re-submitted (and again never resolves).
  void Reconcile(OutboundMessage m,
                 std::function<void(std::optional<ReconcileResult>)> done) override {
    ReconcileResult r;
    switch (BehaviourFor(m.to)) {
      case SimBehaviour::kNeverResolves:
        return done(std::nullopt);
      case SimBehaviour::kFails:
        r.status = Status::kError;
        r.error =
            MessageError{ErrorCode::kFailedToSend, "The carrier refused the message",
                         "carrier_rejected", "simulated carrier failure for test number " + m.to};
        break;
      case SimBehaviour::kSmsOnly:
        r.status = Status::kSent;
        r.service = Service::kSms;
        r.was_downgraded = true;
        break;
      default:
        r.status = Status::kDelivered;
        r.service = Service::kIMessage;
        r.was_downgraded = false;
        break;
    }
    done(r);
  }

  // SMS-only numbers (0101) are SMS; a number that never resolves (0103) cannot be looked up
  // either; everything else, emails included, is iMessage.
  void Lookup(std::string address, std::function<void(LookupResult)> done) override {
    switch (BehaviourFor(address)) {
      case SimBehaviour::kSmsOnly:
        return done(LookupResult{Service::kSms, {}});
      case SimBehaviour::kNeverResolves:
        return done(
            LookupResult{std::nullopt, "simulated lookup timeout for test number " + address});
      default:
        return done(LookupResult{Service::kIMessage, {}});
    }
  }

  void Send(Signal s, std::function<void(Result<Ok>)> done) override {
    if (BehaviourFor(s.to) == SimBehaviour::kSmsOnly) {
      return done(Error{ErrorKind::kRejected,
                        s.to + " is reached over SMS, which has no typing indicators, read "
                               "receipts or reactions",
                        ErrorCode::kValidation,
                        {}});
    }
    done(Ok{});
  }

  std::string_view name() const override { return "sim"; }

 private:
  CarrierEvent StatusEvent(const OutboundMessage& m, Status s) const {
    CarrierEvent e;
    e.kind = CarrierEvent::Kind::kStatus;
    e.at = clock_.Now();
    e.line = m.line;
    e.message_id = m.message_id;
    e.handle = m.handle;
    e.status = s;
    return e;
  }

  void AfterDelivered(const std::shared_ptr<OutboundMessage>& m, SimBehaviour b) {
    if (b == SimBehaviour::kRead) {
      After(settings_.read_delay, [this, m] {
        CarrierEvent e = StatusEvent(*m, Status::kDelivered);
        e.kind = CarrierEvent::Kind::kRead;
        sink_.OnCarrierEvent(std::move(e));
      });
    } else if (b == SimBehaviour::kRepliesStop || b == SimBehaviour::kEchoes) {
      if (b == SimBehaviour::kEchoes) {
        // The echo is typed first: the contact's typing bubble shows, then the reply comes.
        CarrierEvent typing;
        typing.kind = CarrierEvent::Kind::kTyping;
        typing.at = clock_.Now();
        typing.line = m->line;
        typing.from = m->to;
        typing.is_typing = true;
        sink_.OnCarrierEvent(std::move(typing));
      }
      After(settings_.reply_delay, [this, m, b] {
        CarrierEvent e;
        e.kind = CarrierEvent::Kind::kInbound;
        e.at = clock_.Now();
        e.line = m->line;
        e.from = m->to;
        e.service = Service::kIMessage;
        e.content = b == SimBehaviour::kRepliesStop ? "STOP" : "Echo: " + m->content;
        sink_.OnCarrierEvent(std::move(e));
      });
    }
  }

  template <typename Fn>
  void After(Millis delay, Fn fn) {
    if (delay.count() <= 0) {
      asio::post(io_, [life = life_, fn = std::move(fn)]() mutable {
        std::lock_guard lock(life->mu);
        if (life->alive) fn();
      });
      return;
    }
    auto timer = std::make_shared<asio::steady_timer>(io_, delay);
    timer->async_wait(
        [timer, life = life_, fn = std::move(fn)](const boost::system::error_code& ec) mutable {
          std::lock_guard lock(life->mu);
          if (!ec && life->alive) fn();
        });
  }

  struct Life {
    std::mutex mu;
    bool alive = true;
  };
  std::shared_ptr<Life> life_ = std::make_shared<Life>();

  asio::io_context& io_;
  CarrierSink& sink_;
  Clock& clock_;
  SimSettings settings_;
};

}  // namespace

SimBehaviour BehaviourFor(std::string_view n) {
  // +1 NPA 555 01XX: twelve characters.
  if (n.size() != 12 || !n.starts_with("+1") || n.substr(5, 3) != "555" || n.substr(8, 2) != "01") {
    return SimBehaviour::kDelivered;
  }
  switch (n[10] == '0' ? n[11] : 'x') {
    case '1':
      return SimBehaviour::kSmsOnly;
    case '2':
      return SimBehaviour::kFails;
    case '3':
      return SimBehaviour::kNeverResolves;
    case '4':
      return SimBehaviour::kRepliesStop;
    case '5':
      return SimBehaviour::kEchoes;
    case '6':
      return SimBehaviour::kSlow;
    case '7':
      return SimBehaviour::kRead;
    default:
      return SimBehaviour::kDelivered;
  }
}

std::unique_ptr<Carrier> MakeSimCarrier(asio::io_context& io, CarrierSink& sink, Clock& clock,
                                        const SimSettings& settings) {
  return std::make_unique<SimCarrier>(io, sink, clock, settings);
}

}  // namespace bluegate::carriers::sim
