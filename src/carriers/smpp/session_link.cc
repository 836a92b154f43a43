// The session's connection: connect, TLS, bind, the PDU stream, enquire_link, reconnects.
#include "carriers/smpp/session.h"

namespace bluegate::carriers::smpp {

void Session::Connect() {
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

void Session::StartTls(uint64_t gen) {
  tls_ = std::make_unique<asio::ssl::stream<tcp::socket>>(std::move(*plain_), ssl_ctx_);
  plain_.reset();
  SSL_set_tlsext_host_name(tls_->native_handle(), settings_.host.c_str());
  if (settings_.tls_verify) {
    tls_->set_verify_callback(asio::ssl::host_name_verification(settings_.host));
  }
  tls_->async_handshake(asio::ssl::stream_base::client, [self = shared_from_this(),
                                                         gen](const boost::system::error_code& ec) {
    if (gen != self->generation_ || self->stopped_) return;
    if (ec) {
      return self->Drop("TLS handshake with " + self->Address() + " failed: " + ec.message());
    }
    self->Bind();
  });
}

std::string Session::Address() const {
  return settings_.host + ":" + std::to_string(settings_.port);
}

void Session::Bind() {
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

void Session::OnBindResp(const Pdu& p) {
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
void Session::Drop(const std::string& reason) {
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

void Session::CloseSocket() {
  boost::system::error_code ignored;
  if (tls_) tls_->lowest_layer().close(ignored);
  if (plain_) plain_->close(ignored);
  tls_.reset();
  plain_.reset();
}

void Session::ReadHeader(uint64_t gen) {
  WithStream([&](auto& stream) {
    asio::async_read(stream, asio::buffer(header_),
                     [self = shared_from_this(), gen](const boost::system::error_code& ec, size_t) {
                       self->OnHeader(gen, ec);
                     });
  });
}

void Session::OnHeader(uint64_t gen, const boost::system::error_code& ec) {
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

void Session::OnFrame(uint64_t gen) {
  Pdu header;
  auto pdu = Decode(body_, &header);
  if (!pdu.ok()) {
    spdlog::warn("line {}: unreadable {} from the SMSC: {}", line_, CommandName(header.command_id),
                 pdu.error().message);
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

void Session::OnPdu(const Pdu& p) {
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

void Session::SendRequest(Pdu p, Request req) {
  p.sequence = next_sequence_;
  next_sequence_ = next_sequence_ >= 0x7FFFFFFF ? 1 : next_sequence_ + 1;
  req.deadline = Steady::now() + settings_.response_timeout;
  requests_[p.sequence] = std::move(req);
  Write(Encode(p));
}

void Session::Write(std::string bytes) {
  outbox_.push_back(std::move(bytes));
  if (!writing_) WriteNext();
}

// Everything queued goes in one write: a window of submits costs one system call.
void Session::WriteNext() {
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

void Session::ArmEnquireLink() {
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
void Session::ArmSweep() {
  sweep_timer_.expires_after(std::min(Millis(250), settings_.response_timeout / 4));
  sweep_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (ec || self->stopped_) return;
    self->Sweep();
    self->ArmSweep();
  });
}

void Session::Sweep() {
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
      Finish(*req.job, SubmitResult{SubmitOutcome::kUnknown,
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

void Session::Health(LineHealth h, std::string reason) {
  if (auto e = health_.Change(line_, clock_.Now(), h, std::move(reason))) Emit(std::move(*e));
}

void Session::Emit(CarrierEvent e) {
  if (!stopped_) sink_.OnCarrierEvent(std::move(e));
}

}  // namespace bluegate::carriers::smpp
