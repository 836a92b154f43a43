// The session: starting and stopping, and sending (the submit window, pacing, throttling).
#include "carriers/smpp/session.h"

namespace bluegate::carriers::smpp {

// An SMSC id as a lookup key: lowercase, without leading zeros.
std::string Key(std::string_view id) {
  std::string s(id);
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const size_t nz = s.find_first_not_of('0');
  return nz == std::string::npos ? "0" : s.substr(nz);
}

std::string Digits(std::string_view e164) {
  return std::string(e164.starts_with('+') ? e164.substr(1) : e164);
}

// A sender's address as the gateway writes numbers: digits become E.164; anything else (an
// alphanumeric sender) stays as it came.
std::string FromAddress(const std::string& addr) {
  if (addr.empty() || addr.front() == '+') return addr;
  for (char c : addr) {
    if (c < '0' || c > '9') return addr;
  }
  return "+" + addr;
}

// SMPP carries no attachments: the link goes with the text, as SMS gateways do.
std::string SmsText(const OutboundMessage& m) {
  if (m.media_url.empty()) return m.content;
  return m.content + (m.content.empty() ? "" : "\n") + m.media_url;
}

Session::Session(asio::io_context& io, CarrierSink& sink, Clock& clock, SmppSettings settings,
                 std::string line)
    : strand_(asio::make_strand(io)),
      sink_(sink),
      clock_(clock),
      settings_(std::move(settings)),
      line_(std::move(line)),
      ssl_ctx_(asio::ssl::context::tls_client),
      resolver_(strand_),
      reconnect_timer_(strand_),
      sweep_timer_(strand_),
      enquire_timer_(strand_),
      pace_timer_(strand_),
      bucket_(settings_.throughput, std::max(1.0, settings_.throughput / 10)),
      reconnect_backoff_(settings_.reconnect_min),
      throttle_backoff_(settings_.throttle_min) {
  if (settings_.tls) {
    ssl_ctx_.set_default_verify_paths();
    if (!settings_.ca_file.empty()) {
      boost::system::error_code ec;
      ssl_ctx_.load_verify_file(settings_.ca_file, ec);
      if (ec)
        spdlog::error("line {}: cannot read ca_file {}: {}", line_, settings_.ca_file,
                      ec.message());
    }
    ssl_ctx_.set_verify_mode(settings_.tls_verify ? asio::ssl::verify_peer
                                                  : asio::ssl::verify_none);
  }
}

void Session::Start() {
  asio::post(strand_, [self = shared_from_this()] {
    self->Connect();
    self->ArmSweep();
  });
}

void Session::Stop() {
  stopped_.store(true);
  asio::post(strand_, [self = shared_from_this()] {
    self->reconnect_timer_.cancel();
    self->sweep_timer_.cancel();
    self->enquire_timer_.cancel();
    self->pace_timer_.cancel();
    self->resolver_.cancel();
    // What it held goes back: waiting messages to the line's queue, those on the wire to
    // reconciliation (the line's next carrier, when its settings changed).
    self->Drop("the line's SMPP settings changed or the line was removed");
  });
}

void Session::Submit(OutboundMessage m, std::function<void(SubmitResult)> done) {
  asio::post(strand_,
             [self = shared_from_this(), m = std::move(m), done = std::move(done)]() mutable {
               self->Enqueue(std::move(m), std::move(done));
             });
}

const SmppSettings& Session::settings() const { return settings_; }

void Session::Enqueue(OutboundMessage m, std::function<void(SubmitResult)> done) {
  if (!m.group_id.empty()) {
    return done(SubmitResult{
        SubmitOutcome::kRejected, "SMS over SMPP has no group messages; send to each number", {}});
  }
  auto encoded = EncodeForSms(SmsText(m), next_reference_++);
  if (!encoded) {
    return done(
        SubmitResult{SubmitOutcome::kRejected, "the text needs more than 255 SMS segments", {}});
  }
  if (state_ != State::kBound) {
    return done(
        SubmitResult{SubmitOutcome::kDisconnected, "not bound to the SMSC: " + last_problem_, {}});
  }
  auto job = std::make_shared<Job>();
  job->message = std::move(m);
  job->data_coding = encoded->data_coding;
  job->segments = std::move(encoded->segments);
  job->smsc_ids.resize(job->segments.size());
  job->done = std::move(done);
  if (settings_.receipts) {
    job->tracked = std::make_shared<Tracked>();
    job->tracked->message_id = job->message.message_id;
    job->tracked->handle = job->message.handle;
    job->tracked->segments = job->segments.size();
    job->tracked->expires = Steady::now() + kReceiptWait;
  }
  for (size_t i = 0; i < job->segments.size(); ++i) waiting_.push_back({job, i});
  Pump();
}

// Sends waiting segments while the window, the pace and any throttling pause allow.
void Session::Pump() {
  while (state_ == State::kBound && !waiting_.empty() && submits_out_ < settings_.window) {
    if (Steady::now() < paused_until_) {
      ArmPace(paused_until_);
      return;
    }
    QueuedSegment& next = waiting_.front();
    if (next.job->finished) {
      waiting_.pop_front();
      continue;
    }
    if (!bucket_.unlimited() && !bucket_.TryTake(clock_.Now())) {
      const auto wait = bucket_.NextAvailable(clock_.Now()) - clock_.Now();
      ArmPace(Steady::now() + std::max(Millis(1), std::chrono::duration_cast<Millis>(wait)));
      return;
    }
    QueuedSegment seg = std::move(next);
    waiting_.pop_front();
    const Job& job = *seg.job;
    Pdu p;
    p.command_id = kSubmitSm;
    p.source_addr_ton = settings_.source_ton;
    p.source_addr_npi = settings_.source_npi;
    p.source_addr = Digits(job.message.line);
    p.dest_addr_ton = settings_.dest_ton;
    p.dest_addr_npi = settings_.dest_npi;
    p.destination_addr = Digits(job.message.to);
    p.esm_class = job.segments[seg.index].udh ? kEsmUdhi : 0;
    p.registered_delivery = settings_.receipts ? 1 : 0;
    p.data_coding = job.data_coding;
    p.short_message = job.segments[seg.index].payload;
    seg.job->written++;
    ++submits_out_;
    SendRequest(std::move(p), Request{kSubmitSm, seg.job, seg.index, {}});
  }
}

void Session::ArmPace(Steady::time_point at) {
  if (pace_armed_) return;
  pace_armed_ = true;
  pace_timer_.expires_at(at);
  pace_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    self->pace_armed_ = false;
    if (!ec && !self->stopped_) self->Pump();
  });
}

void Session::OnSubmitResp(Request req, const Pdu& p) {
  --submits_out_;
  Job& job = *req.job;
  if (job.finished) return Pump();  // answered after it was given up as unknown
  if (p.command_status == kStatusOk) {
    throttle_backoff_ = settings_.throttle_min;
    if (throttled_) {
      throttled_ = false;
      Health(LineHealth::kOnline, "the SMSC takes messages again");
    }
    job.smsc_ids[req.index] = p.message_id;
    if (job.tracked) {
      job.tracked->keys.push_back(Key(p.message_id));
      tracked_[job.tracked->keys.back()] = job.tracked;
    }
    if (++job.acked == job.segments.size()) Accepted(req.job);
  } else if (p.command_status == kStatusThrottled || p.command_status == kStatusQueueFull) {
    // Slow down, never fail: the segment goes first again after a pause that grows while
    // the SMSC keeps refusing.
    job.written--;
    waiting_.push_front({req.job, req.index});
    paused_until_ = Steady::now() + throttle_backoff_;
    throttle_backoff_ = std::min(throttle_backoff_ * 2, settings_.throttle_max);
    if (!throttled_) {
      throttled_ = true;
      Health(LineHealth::kDegraded, "the SMSC asks to slow down: " + StatusName(p.command_status));
    }
  } else {
    Finish(job,
           SubmitResult{
               SubmitOutcome::kRejected, "submit_sm refused: " + StatusName(p.command_status), {}});
  }
  Pump();
}

void Session::Accepted(const std::shared_ptr<Job>& job) {
  Finish(*job, SubmitResult{SubmitOutcome::kAccepted, {}, {}});
  if (job->tracked) job->tracked->expires = Steady::now() + kReceiptWait;
  CarrierEvent e = StatusEvent(job->message.message_id, job->message.handle, Status::kSent);
  Emit(std::move(e));
}

void Session::Finish(Job& job, SubmitResult r) {
  if (job.finished) return;
  job.finished = true;
  // A message that did not go whole is not followed further: its segments' receipts say
  // nothing the gateway reports.
  if (r.outcome != SubmitOutcome::kAccepted && job.tracked) Untrack(*job.tracked);
  auto done = std::move(job.done);
  done(std::move(r));
}

CarrierEvent Session::StatusEvent(int64_t id, const std::string& handle, Status s) const {
  CarrierEvent e;
  e.kind = CarrierEvent::Kind::kStatus;
  e.at = clock_.Now();
  e.line = line_;
  e.message_id = id;
  e.handle = handle;
  e.status = s;
  e.service = Service::kSms;
  e.was_downgraded = false;
  return e;
}

}  // namespace bluegate::carriers::smpp
