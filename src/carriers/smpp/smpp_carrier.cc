#include "carriers/smpp/smpp_carrier.h"

#include <spdlog/spdlog.h>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <atomic>
#include <deque>
#include <unordered_map>

#include "carriers/smpp/pdu.h"
#include "carriers/smpp/receipt.h"
#include "carriers/smpp/text.h"
#include "core/token_bucket.h"

namespace bluegate::carriers::smpp {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Steady = std::chrono::steady_clock;

// A submitted message waiting for its receipts (one per segment).
struct Tracked {
  int64_t message_id = 0;
  std::string handle;
  size_t segments = 1;
  size_t delivered = 0;
  std::vector<std::string> keys;
  Steady::time_point expires;
};

// A message on its way out: its segments, how many the SMSC took, and who to tell.
struct Job {
  OutboundMessage message;
  std::vector<Segment> segments;
  uint8_t data_coding = kCodingDefault;
  std::function<void(SubmitResult)> done;
  std::vector<std::string> smsc_ids;  // by segment, as the submit_sm_resp gave them
  size_t acked = 0;
  size_t written = 0;  // segments that reached the wire (and may have reached the phone)
  bool finished = false;
  // Its receipts: each segment's id is known from its response on, and a segment's receipt may
  // come before the next segment's response.
  std::shared_ptr<Tracked> tracked;
};

struct QueuedSegment {
  std::shared_ptr<Job> job;
  size_t index = 0;
};

// A request this side sent and whose response it waits for.
struct Request {
  uint32_t command_id = 0;
  std::shared_ptr<Job> job;  // submit_sm
  size_t index = 0;
  Steady::time_point deadline;
};

constexpr auto kReceiptWait = std::chrono::hours(72);

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

class Session final : public std::enable_shared_from_this<Session> {
 public:
  Session(asio::io_context& io, CarrierSink& sink, Clock& clock, SmppSettings settings,
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

  void Start() {
    asio::post(strand_, [self = shared_from_this()] {
      self->Connect();
      self->ArmSweep();
    });
  }

  void Stop() {
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

  void Submit(OutboundMessage m, std::function<void(SubmitResult)> done) {
    asio::post(strand_,
               [self = shared_from_this(), m = std::move(m), done = std::move(done)]() mutable {
                 self->Enqueue(std::move(m), std::move(done));
               });
  }

  const SmppSettings& settings() const { return settings_; }

 private:
  enum class State { kIdle, kConnecting, kBinding, kBound };

  // --- Sending ---------------------------------------------------------------------------

  void Enqueue(OutboundMessage m, std::function<void(SubmitResult)> done) {
    if (!m.group_id.empty()) {
      return done(SubmitResult{SubmitOutcome::kRejected,
                               "SMS over SMPP has no group messages; send to each number",
                               {}});
    }
    auto encoded = EncodeForSms(SmsText(m), next_reference_++);
    if (!encoded) {
      return done(
          SubmitResult{SubmitOutcome::kRejected, "the text needs more than 255 SMS segments", {}});
    }
    if (state_ != State::kBound) {
      return done(SubmitResult{
          SubmitOutcome::kDisconnected, "not bound to the SMSC: " + last_problem_, {}});
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
  void Pump() {
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

  void ArmPace(Steady::time_point at) {
    if (pace_armed_) return;
    pace_armed_ = true;
    pace_timer_.expires_at(at);
    pace_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      self->pace_armed_ = false;
      if (!ec && !self->stopped_) self->Pump();
    });
  }

  void OnSubmitResp(Request req, const Pdu& p) {
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
        Health(LineHealth::kDegraded,
               "the SMSC asks to slow down: " + StatusName(p.command_status));
      }
    } else {
      Finish(job, SubmitResult{SubmitOutcome::kRejected,
                               "submit_sm refused: " + StatusName(p.command_status),
                               {}});
    }
    Pump();
  }

  void Accepted(const std::shared_ptr<Job>& job) {
    Finish(*job, SubmitResult{SubmitOutcome::kAccepted, {}, {}});
    if (job->tracked) job->tracked->expires = Steady::now() + kReceiptWait;
    CarrierEvent e = StatusEvent(job->message.message_id, job->message.handle, Status::kSent);
    Emit(std::move(e));
  }

  void Finish(Job& job, SubmitResult r) {
    if (job.finished) return;
    job.finished = true;
    // A message that did not go whole is not followed further: its segments' receipts say
    // nothing the gateway reports.
    if (r.outcome != SubmitOutcome::kAccepted && job.tracked) Untrack(*job.tracked);
    auto done = std::move(job.done);
    done(std::move(r));
  }

  CarrierEvent StatusEvent(int64_t id, const std::string& handle, Status s) const {
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

  // --- Receiving -------------------------------------------------------------------------

  void OnDeliverSm(const Pdu& p) {
    Pdu resp;
    resp.command_id = kDeliverSmResp;
    resp.sequence = p.sequence;
    Write(Encode(resp));
    if (auto r = ParseReceipt(p)) return OnReceipt(*r);
    std::string payload = p.short_message;
    if (payload.empty()) {
      if (const Tlv* t = p.FindTlv(kTagMessagePayload)) payload = t->value;
    }
    std::optional<Concatenation> concat;
    if (p.esm_class & kEsmUdhi) {
      if (auto udh = ReadUdh(payload)) {
        concat = udh->first;
        payload = payload.substr(udh->second);
      }
    }
    const std::string from = FromAddress(p.source_addr);
    std::string text = DecodeText(p.data_coding, payload);
    if (concat) {
      auto whole = reassembler_.Add(from, *concat, std::move(text), clock_.Now());
      if (!whole) return;
      text = std::move(*whole);
    }
    Inbound(from, std::move(text));
  }

  void Inbound(std::string from, std::string text) {
    CarrierEvent e;
    e.kind = CarrierEvent::Kind::kInbound;
    e.at = clock_.Now();
    e.line = line_;
    e.from = std::move(from);
    e.content = std::move(text);
    e.service = Service::kSms;
    Emit(std::move(e));
  }

  void OnReceipt(const Receipt& r) {
    std::shared_ptr<Tracked> t;
    for (const auto& form : IdForms(r.message_id)) {
      if (auto it = tracked_.find(Key(form)); it != tracked_.end()) {
        t = it->second;
        break;
      }
    }
    if (!t) {
      spdlog::debug("line {}: receipt for unknown SMSC id {} ({})", line_, r.message_id, r.stat);
      return;
    }
    if (r.state == ReceiptState::kDelivered) {
      if (++t->delivered < t->segments) return;
      Untrack(*t);
      CarrierEvent e = StatusEvent(t->message_id, t->handle, Status::kDelivered);
      e.receipt = true;
      Emit(std::move(e));
    } else if (r.state == ReceiptState::kFailed) {
      Untrack(*t);
      CarrierEvent e = StatusEvent(t->message_id, t->handle, Status::kError);
      e.receipt = true;
      e.error = MessageError{ErrorCode::kFailedToSend, "The carrier could not deliver the message",
                             "carrier_undelivered",
                             "stat: " + r.stat + (r.error.empty() ? "" : " err: " + r.error)};
      Emit(std::move(e));
    }
  }

  void Untrack(const Tracked& t) {
    for (const auto& k : t.keys) tracked_.erase(k);
  }

  // --- The connection --------------------------------------------------------------------

  void Connect() {
    if (stopped_) return;
    ++generation_;
    state_ = State::kConnecting;
    plain_ = std::make_unique<tcp::socket>(strand_);
    tls_.reset();
    resolver_.async_resolve(
        settings_.host, std::to_string(settings_.port),
        [self = shared_from_this(), gen = generation_](const boost::system::error_code& ec,
                                                       tcp::resolver::results_type results) {
          if (gen != self->generation_ || self->stopped_) return;
          if (ec) return self->Drop("cannot resolve " + self->settings_.host + ": " + ec.message());
          asio::async_connect(
              *self->plain_, results,
              [self, gen](const boost::system::error_code& ec2, const tcp::endpoint&) {
                if (gen != self->generation_ || self->stopped_) return;
                if (ec2)
                  return self->Drop("cannot connect to " + self->Address() + ": " + ec2.message());
                boost::system::error_code ignored;
                self->plain_->set_option(tcp::no_delay(true), ignored);
                if (!self->settings_.tls) return self->Bind();
                self->StartTls(gen);
              });
        });
  }

  void StartTls(uint64_t gen) {
    tls_ = std::make_unique<asio::ssl::stream<tcp::socket>>(std::move(*plain_), ssl_ctx_);
    plain_.reset();
    SSL_set_tlsext_host_name(tls_->native_handle(), settings_.host.c_str());
    if (settings_.tls_verify) {
      tls_->set_verify_callback(asio::ssl::host_name_verification(settings_.host));
    }
    tls_->async_handshake(asio::ssl::stream_base::client, [self = shared_from_this(), gen](
                                                              const boost::system::error_code& ec) {
      if (gen != self->generation_ || self->stopped_) return;
      if (ec) {
        return self->Drop("TLS handshake with " + self->Address() + " failed: " + ec.message());
      }
      self->Bind();
    });
  }

  std::string Address() const { return settings_.host + ":" + std::to_string(settings_.port); }

  void Bind() {
    state_ = State::kBinding;
    Pdu p;
    p.command_id = kBindTransceiver;
    p.system_id = settings_.system_id;
    p.password = settings_.password;
    p.system_type = settings_.system_type;
    p.address_range = settings_.address_range;
    SendRequest(std::move(p), Request{kBindTransceiver, nullptr, 0, {}});
    ReadHeader(generation_);
  }

  void OnBindResp(const Pdu& p) {
    if (p.command_status != kStatusOk) {
      spdlog::error("line {}: the SMSC at {} refused the bind as {}: {}", line_, Address(),
                    settings_.system_id, StatusName(p.command_status));
      return Drop("the SMSC refused the bind: " + StatusName(p.command_status));
    }
    spdlog::info("line {}: bound to the SMSC at {} as {}", line_, Address(), settings_.system_id);
    state_ = State::kBound;
    reconnect_backoff_ = settings_.reconnect_min;
    last_problem_.clear();
    Health(LineHealth::kOnline, "bound to the SMSC at " + Address());
    ArmEnquireLink();
    Pump();
  }

  // The connection is gone (or never came): what was on the wire is unknown, what waited goes
  // back to the line's queue, and a new connection is tried after a growing pause.
  void Drop(const std::string& reason) {
    if (state_ == State::kIdle && !plain_ && !tls_) return;
    ++generation_;
    CloseSocket();
    state_ = State::kIdle;
    last_problem_ = reason;
    for (auto& [seq, req] : requests_) {
      if (req.job && !req.job->finished) {
        Finish(*req.job,
               SubmitResult{SubmitOutcome::kUnknown,
                            "the connection to the SMSC ended before its response: " + reason,
                            {}});
      }
    }
    requests_.clear();
    submits_out_ = 0;
    for (auto& seg : waiting_) {
      Job& job = *seg.job;
      if (job.finished) continue;
      Finish(job, job.written > 0
                      ? SubmitResult{SubmitOutcome::kUnknown,
                                     "some of its segments went out before the connection ended",
                                     {}}
                      : SubmitResult{SubmitOutcome::kDisconnected, reason, {}});
    }
    waiting_.clear();
    outbox_.clear();
    writing_ = false;
    close_after_write_ = false;
    enquire_timer_.cancel();
    if (stopped_) return;
    spdlog::warn("line {}: {}; reconnecting in {} ms", line_, reason, reconnect_backoff_.count());
    Health(LineHealth::kOffline, reason);
    reconnect_timer_.expires_after(reconnect_backoff_);
    reconnect_backoff_ = std::min(reconnect_backoff_ * 2, settings_.reconnect_max);
    reconnect_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (!ec) self->Connect();
    });
  }

  void CloseSocket() {
    boost::system::error_code ignored;
    if (tls_) tls_->lowest_layer().close(ignored);
    if (plain_) plain_->close(ignored);
    tls_.reset();
    plain_.reset();
  }

  template <typename Fn>
  void WithStream(Fn&& fn) {
    if (tls_) {
      fn(*tls_);
    } else if (plain_) {
      fn(*plain_);
    }
  }

  void ReadHeader(uint64_t gen) {
    WithStream([&](auto& stream) {
      asio::async_read(stream, asio::buffer(header_),
                       [self = shared_from_this(), gen](const boost::system::error_code& ec,
                                                        size_t) { self->OnHeader(gen, ec); });
    });
  }

  void OnHeader(uint64_t gen, const boost::system::error_code& ec) {
    if (gen != generation_ || stopped_) return;
    if (ec) return Drop("the connection to the SMSC was lost: " + ec.message());
    auto len = FrameLength(std::string_view(header_.data(), header_.size()));
    if (!len.ok()) return Drop("the SMSC sent a malformed PDU: " + len.error().message);
    body_.assign(header_.data(), header_.size());
    if (*len == kHeaderSize) return OnFrame(gen);
    body_.resize(*len);
    WithStream([&](auto& stream) {
      asio::async_read(
          stream, asio::buffer(body_.data() + kHeaderSize, *len - kHeaderSize),
          [self = shared_from_this(), gen](const boost::system::error_code& ec2, size_t) {
            if (gen != self->generation_ || self->stopped_) return;
            if (ec2) return self->Drop("the connection to the SMSC was lost: " + ec2.message());
            self->OnFrame(gen);
          });
    });
  }

  void OnFrame(uint64_t gen) {
    Pdu header;
    auto pdu = Decode(body_, &header);
    if (!pdu.ok()) {
      spdlog::warn("line {}: unreadable {} from the SMSC: {}", line_,
                   CommandName(header.command_id), pdu.error().message);
      if (!(header.command_id & 0x80000000u)) {
        Pdu nack;
        nack.command_id = kGenericNack;
        nack.sequence = header.sequence;
        nack.command_status = (header.command_id == kSubmitSm || header.command_id == kDeliverSm ||
                               header.command_id == kEnquireLink || header.command_id == kUnbind)
                                  ? kStatusInvalidLength
                                  : kStatusInvalidCommand;
        Write(Encode(nack));
      }
    } else {
      OnPdu(*pdu);
    }
    if (gen == generation_) ReadHeader(gen);
  }

  void OnPdu(const Pdu& p) {
    if (p.command_id & 0x80000000u) {
      auto it = requests_.find(p.sequence);
      if (it == requests_.end()) return;  // a response to something given up on
      Request req = std::move(it->second);
      requests_.erase(it);
      if (p.command_id == kGenericNack) {
        if (req.command_id == kSubmitSm) {
          --submits_out_;
          Finish(*req.job,
                 SubmitResult{SubmitOutcome::kRejected,
                              "the SMSC answered generic_nack: " + StatusName(p.command_status),
                              {}});
          return Pump();
        }
        return Drop("the SMSC answered " + CommandName(req.command_id) +
                    " with generic_nack: " + StatusName(p.command_status));
      }
      switch (req.command_id) {
        case kSubmitSm:
          return OnSubmitResp(std::move(req), p);
        case kBindTransceiver:
          return OnBindResp(p);
        default:
          return;  // enquire_link_resp: its arrival (before the deadline) is all it is for
      }
    }
    switch (p.command_id) {
      case kDeliverSm:
        return OnDeliverSm(p);
      case kEnquireLink: {
        Pdu resp;
        resp.command_id = kEnquireLinkResp;
        resp.sequence = p.sequence;
        return Write(Encode(resp));
      }
      case kUnbind: {
        Pdu resp;
        resp.command_id = kUnbindResp;
        resp.sequence = p.sequence;
        close_after_write_ = true;
        unbind_reason_ = "the SMSC unbound";
        return Write(Encode(resp));
      }
      default: {
        Pdu nack;
        nack.command_id = kGenericNack;
        nack.sequence = p.sequence;
        nack.command_status = kStatusInvalidCommand;
        return Write(Encode(nack));
      }
    }
  }

  void SendRequest(Pdu p, Request req) {
    p.sequence = next_sequence_;
    next_sequence_ = next_sequence_ >= 0x7FFFFFFF ? 1 : next_sequence_ + 1;
    req.deadline = Steady::now() + settings_.response_timeout;
    requests_[p.sequence] = std::move(req);
    Write(Encode(p));
  }

  void Write(std::string bytes) {
    outbox_.push_back(std::move(bytes));
    if (!writing_) WriteNext();
  }

  // Everything queued goes in one write: a window of submits costs one system call.
  void WriteNext() {
    if (outbox_.empty()) {
      writing_ = false;
      if (close_after_write_) Drop(unbind_reason_);
      return;
    }
    writing_ = true;
    sending_.clear();
    for (auto& b : outbox_) sending_ += b;
    outbox_.clear();
    WithStream([&](auto& stream) {
      asio::async_write(stream, asio::buffer(sending_),
                        [self = shared_from_this(), gen = generation_](
                            const boost::system::error_code& ec, size_t) {
                          if (gen != self->generation_ || self->stopped_) return;
                          if (ec) {
                            return self->Drop("cannot write to the SMSC: " + ec.message());
                          }
                          self->WriteNext();
                        });
    });
  }

  void ArmEnquireLink() {
    enquire_timer_.expires_after(settings_.enquire_link);
    enquire_timer_.async_wait(
        [self = shared_from_this(), gen = generation_](const boost::system::error_code& ec) {
          if (ec || gen != self->generation_ || self->stopped_) return;
          Pdu p;
          p.command_id = kEnquireLink;
          self->SendRequest(std::move(p), Request{kEnquireLink, nullptr, 0, {}});
          self->ArmEnquireLink();
        });
  }

  // Every few hundred milliseconds: requests past their deadline, long MO messages that never
  // got all their parts, receipts that never came.
  void ArmSweep() {
    sweep_timer_.expires_after(std::min(Millis(250), settings_.response_timeout / 4));
    sweep_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (ec || self->stopped_) return;
      self->Sweep();
      self->ArmSweep();
    });
  }

  void Sweep() {
    const auto now = Steady::now();
    bool link_dead = false;
    for (auto it = requests_.begin(); it != requests_.end();) {
      if (it->second.deadline > now) {
        ++it;
        continue;
      }
      Request& req = it->second;
      if (req.command_id == kSubmitSm) {
        --submits_out_;
        Finish(*req.job,
               SubmitResult{SubmitOutcome::kUnknown,
                            "no submit_sm_resp within " +
                                std::to_string(settings_.response_timeout.count()) + " ms",
                            {}});
      } else {
        link_dead = true;
      }
      it = requests_.erase(it);
    }
    if (link_dead) {
      Drop("the SMSC did not answer within " + std::to_string(settings_.response_timeout.count()) +
           " ms");
    }
    for (auto& [from, text] : reassembler_.Expire(clock_.Now(), settings_.mo_part_timeout)) {
      spdlog::warn("line {}: a long message from {} is missing parts; storing what came", line_,
                   from);
      Inbound(from, std::move(text));
    }
    if (++sweeps_ % 240 == 0) {
      for (auto it = tracked_.begin(); it != tracked_.end();) {
        it = it->second->expires < now ? tracked_.erase(it) : std::next(it);
      }
    }
    Pump();
  }

  void Health(LineHealth h, std::string reason) {
    if (auto e = health_.Change(line_, clock_.Now(), h, std::move(reason))) Emit(std::move(*e));
  }

  void Emit(CarrierEvent e) {
    if (!stopped_) sink_.OnCarrierEvent(std::move(e));
  }

  asio::strand<asio::io_context::executor_type> strand_;
  CarrierSink& sink_;
  Clock& clock_;
  const SmppSettings settings_;
  const std::string line_;
  std::atomic<bool> stopped_{false};

  asio::ssl::context ssl_ctx_;
  tcp::resolver resolver_;
  std::unique_ptr<tcp::socket> plain_;
  std::unique_ptr<asio::ssl::stream<tcp::socket>> tls_;
  uint64_t generation_ = 0;  // handlers of an older connection find it changed and stop
  State state_ = State::kIdle;
  std::string last_problem_ = "not connected yet";

  std::array<char, kHeaderSize> header_{};
  std::string body_;
  std::deque<std::string> outbox_;
  std::string sending_;
  bool writing_ = false;
  bool close_after_write_ = false;
  std::string unbind_reason_;

  asio::steady_timer reconnect_timer_;
  asio::steady_timer sweep_timer_;
  asio::steady_timer enquire_timer_;
  asio::steady_timer pace_timer_;
  bool pace_armed_ = false;
  uint64_t sweeps_ = 0;

  uint32_t next_sequence_ = 1;
  uint8_t next_reference_ = 1;
  std::unordered_map<uint32_t, Request> requests_;
  int submits_out_ = 0;
  std::deque<QueuedSegment> waiting_;
  TokenBucket bucket_;
  Steady::time_point paused_until_{};
  bool throttled_ = false;
  Millis reconnect_backoff_;
  Millis throttle_backoff_;

  std::unordered_map<std::string, std::shared_ptr<Tracked>> tracked_;
  Reassembler reassembler_;
  HealthState health_;
};

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
