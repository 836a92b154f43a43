// The SMPP carrier's session with its SMSC, on its own strand: the bind and the connection
// (session_link.cc), the window of submit_sm and the pacing (session.cc), deliver_sm, receipts
// and reassembly (session_receive.cc). Internal to carriers/smpp/: the carrier is made through
// smpp_carrier.h.
#pragma once

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
#include "carriers/smpp/smpp_carrier.h"
#include "carriers/smpp/text.h"
#include "core/token_bucket.h"

namespace bluegate::carriers::smpp {

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

inline constexpr auto kReceiptWait = std::chrono::hours(72);

// An SMSC id as a lookup key: lowercase, without leading zeros.
std::string Key(std::string_view id);

std::string Digits(std::string_view e164);

// A sender's address as the gateway writes numbers: digits become E.164; anything else (an
// alphanumeric sender) stays as it came.
std::string FromAddress(const std::string& addr);

// SMPP carries no attachments: the link goes with the text, as SMS gateways do.
std::string SmsText(const OutboundMessage& m);

class Session final : public std::enable_shared_from_this<Session> {
 public:
  Session(asio::io_context& io, CarrierSink& sink, Clock& clock, SmppSettings settings,
          std::string line);
  void Start();
  void Stop();
  void Submit(OutboundMessage m, std::function<void(SubmitResult)> done);
  const SmppSettings& settings() const;

 private:
  // (definitions in the files named by each section)
  enum class State { kIdle, kConnecting, kBinding, kBound };

  // --- Sending ---
  void Enqueue(OutboundMessage m, std::function<void(SubmitResult)> done);
  void Pump();
  void ArmPace(Steady::time_point at);
  void OnSubmitResp(Request req, const Pdu& p);
  void Accepted(const std::shared_ptr<Job>& job);
  void Finish(Job& job, SubmitResult r);
  CarrierEvent StatusEvent(int64_t id, const std::string& handle, Status s) const;

  // --- Receiving ---
  void OnDeliverSm(const Pdu& p);
  void Inbound(std::string from, std::string text);
  void OnReceipt(const Receipt& r);
  void Untrack(const Tracked& t);

  // --- The connection ---
  void Connect();
  void StartTls(uint64_t gen);
  std::string Address() const;
  void Bind();
  void OnBindResp(const Pdu& p);
  void Drop(const std::string& reason);
  void CloseSocket();

  template <typename Fn>
  void WithStream(Fn&& fn) {
    if (tls_) {
      fn(*tls_);
    } else if (plain_) {
      fn(*plain_);
    }
  }
  void ReadHeader(uint64_t gen);
  void OnHeader(uint64_t gen, const boost::system::error_code& ec);
  void OnFrame(uint64_t gen);
  void OnPdu(const Pdu& p);
  void SendRequest(Pdu p, Request req);
  void Write(std::string bytes);
  void WriteNext();
  void ArmEnquireLink();
  void ArmSweep();
  void Sweep();
  void Health(LineHealth h, std::string reason);
  void Emit(CarrierEvent e);

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

}  // namespace bluegate::carriers::smpp
