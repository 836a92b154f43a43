// The BlueBubbles carrier's session with one server, on its own strand: REST calls and sends
// (session.cc); finding an unanswered send, the server's webhooks, signals and the upkeep poll
// (session_events.cc). Internal to carriers/bluebubbles/: the carrier is made through
// bluebubbles_carrier.h.
#pragma once

#include "carriers/bluebubbles/bluebubbles_carrier.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <atomic>
#include <set>
#include <unordered_map>

#include "core/json.h"

namespace bluegate::carriers::bluebubbles {

namespace asio = boost::asio;
using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

std::string PercentEncode(std::string_view s);

std::string Str(const rapidjson::Value& v, const char* key);
int64_t Num(const rapidjson::Value& v, const char* key);
bool Bool(const rapidjson::Value& v, const char* key);
const rapidjson::Value* Obj(const rapidjson::Value& v, const char* key);

// The chat a message belongs to: its first chat's guid.
std::string ChatGuidOf(const rapidjson::Value& m);

// "iMessage;-;+12125550100" → "+12125550100"; "" for a group chat (";+;").
std::string AddressOfChat(std::string_view chat);

// The one-to-one chat a message goes to: SMS when the lookup said so, iMessage otherwise.
std::string ChatFor(const OutboundMessage& m);

Service ServiceOfChat(std::string_view chat);

// What the gateway knows of a message it sent through the server.
struct Sent {
  int64_t message_id = 0;
  std::string handle;  // also the tempGuid
  std::string chat;
  std::string text;
  TimePoint submitted{};
  std::string guid;  // the server's, once known
  Status status = Status::kAccepted;
  bool read = false;
};

class Session final : public std::enable_shared_from_this<Session> {
 public:
  Session(asio::io_context& io, CarrierSink& sink, Clock& clock, BlueBubblesSettings settings,
          std::string line, HttpFn http, std::function<std::string()> public_url);
  void Start();
  void Stop();
  const BlueBubblesSettings& settings() const;
  void Submit(OutboundMessage m, std::function<void(SubmitResult)> done);
  void Reconcile(OutboundMessage m, std::function<void(std::optional<ReconcileResult>)> done);
  void Lookup(std::string address, std::function<void(LookupResult)> done);
  void Send(Signal s, std::function<void(Result<Ok>)> done);
  Result<Ok> Push(std::string_view token, std::string body);

 private:
  // (definitions in the files named by each section)

  // --- REST ---
  void Call(const char* method, const std::string& path, const std::string& query, std::string body,
            Millis timeout, std::function<void(HttpReply)> done, std::string content_type = "");
  void Raw(HttpRequestSpec spec, std::function<void(HttpReply)> done);
  void NoteReachability(const HttpReply& r);
  void DoSubmit(OutboundMessage m, std::function<void(SubmitResult)> done);
  void SendAttachment(OutboundMessage m, std::function<void(SubmitResult)> done);
  void PostAttachment(OutboundMessage m, std::string bytes, std::function<void(SubmitResult)> done);
  void SendCaption(const OutboundMessage& m, const std::string& chat);
  void OnSent(const std::string& handle, HttpReply r,
              const std::function<void(SubmitResult)>& done);
  void Update(const std::string& handle, const rapidjson::Value& m);
  void Forget(const std::string& handle);
  CarrierEvent StatusEvent(const Sent& s, Status status, const std::string& chat) const;
  std::string HandleOf(const rapidjson::Value& m);

  // --- Finding an unanswered send ---
  void Search(OutboundMessage m, TimePoint deadline,
              std::function<void(std::optional<ReconcileResult>)> done);
  std::optional<ReconcileResult> Known(const std::string& handle);
  void QueryRecent(std::function<void()> then);

  // --- Webhooks ---
  void OnWebhook(const std::string& body);
  void Inbound(const rapidjson::Value& m);

  // --- Signals ---
  void DoSignal(Signal s, std::function<void(Result<Ok>)> done);

  // --- Upkeep ---
  void Poll();
  std::string WebhookUrl() const;
  void RegisterWebhook();
  void Health(LineHealth h, std::string reason);
  void Emit(CarrierEvent e);

  asio::strand<asio::io_context::executor_type> strand_;
  CarrierSink& sink_;
  Clock& clock_;
  const BlueBubblesSettings settings_;
  const std::string line_;
  HttpFn http_;
  std::function<std::string()> public_url_;
  const std::string token_;
  std::atomic<bool> stopped_{false};
  asio::steady_timer poll_timer_;
  bool webhook_registered_ = false;
  HealthState health_;
  std::unordered_map<std::string, Sent> sent_;  // by handle (tempGuid)
  std::unordered_map<std::string, std::string> by_guid_;
};

}  // namespace bluegate::carriers::bluebubbles
