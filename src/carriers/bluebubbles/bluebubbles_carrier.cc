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
namespace {

namespace asio = boost::asio;
using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

std::string PercentEncode(std::string_view s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string Str(const rapidjson::Value& v, const char* key) {
  if (!v.IsObject()) return "";
  auto it = v.FindMember(key);
  return it != v.MemberEnd() && it->value.IsString() ? it->value.GetString() : "";
}
int64_t Num(const rapidjson::Value& v, const char* key) {
  if (!v.IsObject()) return 0;
  auto it = v.FindMember(key);
  if (it == v.MemberEnd()) return 0;
  if (it->value.IsInt64()) return it->value.GetInt64();
  if (it->value.IsDouble()) return static_cast<int64_t>(it->value.GetDouble());
  return 0;
}
bool Bool(const rapidjson::Value& v, const char* key) {
  if (!v.IsObject()) return false;
  auto it = v.FindMember(key);
  return it != v.MemberEnd() && it->value.IsBool() && it->value.GetBool();
}
const rapidjson::Value* Obj(const rapidjson::Value& v, const char* key) {
  if (!v.IsObject()) return nullptr;
  auto it = v.FindMember(key);
  return it != v.MemberEnd() && it->value.IsObject() ? &it->value : nullptr;
}

// The chat a message belongs to: its first chat's guid.
std::string ChatGuidOf(const rapidjson::Value& m) {
  if (!m.IsObject()) return "";
  auto it = m.FindMember("chats");
  if (it == m.MemberEnd() || !it->value.IsArray() || it->value.Empty()) return "";
  return Str(it->value[0], "guid");
}

// "iMessage;-;+12125550100" → "+12125550100"; "" for a group chat (";+;").
std::string AddressOfChat(std::string_view chat) {
  const size_t at = chat.find(";-;");
  return at == std::string_view::npos ? "" : std::string(chat.substr(at + 3));
}

// The one-to-one chat a message goes to: SMS when the lookup said so, iMessage otherwise.
std::string ChatFor(const OutboundMessage& m) {
  return (m.service == Service::kSms ? "SMS;-;" : "iMessage;-;") + m.to;
}

Service ServiceOfChat(std::string_view chat) {
  return chat.starts_with("SMS;") ? Service::kSms : Service::kIMessage;
}

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
          std::string line, HttpFn http, std::function<std::string()> public_url)
      : strand_(asio::make_strand(io)),
        sink_(sink),
        clock_(clock),
        settings_(std::move(settings)),
        line_(std::move(line)),
        http_(std::move(http)),
        public_url_(std::move(public_url)),
        token_(WebhookToken(settings_.password, line_)),
        poll_timer_(strand_) {}

  void Start() {
    asio::post(strand_, [self = shared_from_this()] { self->Poll(); });
  }
  void Stop() {
    stopped_.store(true);
    asio::post(strand_, [self = shared_from_this()] { self->poll_timer_.cancel(); });
  }
  const BlueBubblesSettings& settings() const { return settings_; }

  void Submit(OutboundMessage m, std::function<void(SubmitResult)> done) {
    asio::post(strand_,
               [self = shared_from_this(), m = std::move(m), done = std::move(done)]() mutable {
                 self->DoSubmit(std::move(m), std::move(done));
               });
  }

  void Reconcile(OutboundMessage m, std::function<void(std::optional<ReconcileResult>)> done) {
    asio::post(strand_,
               [self = shared_from_this(), m = std::move(m), done = std::move(done)]() mutable {
                 const TimePoint deadline = self->clock_.Now() + self->settings_.unknown_search;
                 self->Search(std::move(m), deadline, std::move(done));
               });
  }

  void Lookup(std::string address, std::function<void(LookupResult)> done) {
    Call("GET", "/api/v1/handle/availability/imessage", "&address=" + PercentEncode(address), "",
         settings_.request_timeout, [done = std::move(done)](HttpReply r) {
           rapidjson::Document d;
           const rapidjson::Value* data = ParseJson(r.body, d) ? Obj(d, "data") : nullptr;
           if (r.status != 200 || !data) {
             return done(LookupResult{
                 std::nullopt, "the BlueBubbles server could not tell (" +
                                   (r.status ? "HTTP " + std::to_string(r.status) : r.error) +
                                   "; the availability check needs its Private API)"});
           }
           done(LookupResult{Bool(*data, "available") ? Service::kIMessage : Service::kSms, {}});
         });
  }

  void Send(Signal s, std::function<void(Result<Ok>)> done) {
    if (!settings_.private_api) {
      return done(Error{ErrorKind::kRejected,
                        "typing indicators, read receipts and reactions need the BlueBubbles "
                        "Private API (line option private_api=true)",
                        ErrorCode::kValidation,
                        {}});
    }
    asio::post(strand_,
               [self = shared_from_this(), s = std::move(s), done = std::move(done)]() mutable {
                 self->DoSignal(std::move(s), std::move(done));
               });
  }

  Result<Ok> Push(std::string_view token, std::string body) {
    if (token.size() != token_.size() ||
        CRYPTO_memcmp(token.data(), token_.data(), token_.size()) != 0) {
      return Error{ErrorKind::kUnauthenticated, "wrong token for this line's webhook", {}, {}};
    }
    asio::post(strand_,
               [self = shared_from_this(), body = std::move(body)] { self->OnWebhook(body); });
    return Ok{};
  }

 private:
  // --- REST --------------------------------------------------------------------------------

  // `path` under the server; the password goes as the `password` query parameter, as the
  // server's API requires. URLs are never logged.
  void Call(const char* method, const std::string& path, const std::string& query, std::string body,
            Millis timeout, std::function<void(HttpReply)> done, std::string content_type = "") {
    const std::string url =
        settings_.url + path + "?password=" + PercentEncode(settings_.password) + query;
    Raw(HttpRequestSpec{method, url, std::move(body), content_type, timeout, 4 << 20, false},
        std::move(done));
  }

  // Any request; the answer comes back on the strand.
  void Raw(HttpRequestSpec spec, std::function<void(HttpReply)> done) {
    const bool to_server = !spec.untrusted;  // a media server's trouble is not the line's
    http_(std::move(spec),
          [self = shared_from_this(), to_server, done = std::move(done)](HttpReply r) mutable {
            asio::post(self->strand_,
                       [self, to_server, r = std::move(r), done = std::move(done)]() mutable {
                         if (to_server) self->NoteReachability(r);
                         done(std::move(r));
                       });
          });
  }

  void NoteReachability(const HttpReply& r) {
    if (r.status == 401) {
      Health(LineHealth::kOffline, "the BlueBubbles server refused the password");
    } else if (r.status == 0 && !r.timed_out) {
      Health(LineHealth::kOffline, "cannot reach the BlueBubbles server: " + r.error);
    } else if (r.status > 0 && r.status < 500) {
      Health(LineHealth::kOnline, "the BlueBubbles server answers");
    }
  }

  void DoSubmit(OutboundMessage m, std::function<void(SubmitResult)> done) {
    if (!m.group_id.empty()) {
      return done(SubmitResult{SubmitOutcome::kRejected,
                               "group messages through BlueBubbles are not supported yet",
                               {}});
    }
    Sent s;
    s.message_id = m.message_id;
    s.handle = m.handle;
    s.chat = ChatFor(m);
    s.text =
        m.media_url.empty() ? m.content : m.content + (m.content.empty() ? "" : "\n") + m.media_url;
    s.submitted = clock_.Now();
    rapidjson::StringBuffer buf;
    JsonWriter w(buf);
    w.StartObject();
    w.Key("chatGuid");
    w.String(s.chat.c_str());
    w.Key("tempGuid");
    w.String(s.handle.c_str());
    w.Key("message");
    w.String(s.text.c_str());
    w.Key("method");
    w.String(settings_.private_api ? "private-api" : "apple-script");
    if (const std::string effect = EffectId(m.send_style);
        settings_.private_api && !effect.empty()) {
      w.Key("effectId");
      w.String(effect.c_str());
    }
    w.EndObject();
    if (!m.media_url.empty()) {
      s.text.clear();  // the attachment goes as its own message; the text follows it
      sent_[s.handle] = s;
      return SendAttachment(std::move(m), std::move(done));
    }
    sent_[s.handle] = s;
    Call("POST", "/api/v1/message/text", "", std::string(buf.GetString(), buf.GetSize()),
         settings_.send_timeout,
         [self = shared_from_this(), handle = m.handle, done = std::move(done)](HttpReply r) {
           self->OnSent(handle, std::move(r), done);
         });
  }

  // An attachment goes through the attachment endpoint (multipart, as the server takes files):
  // its bytes are fetched from the media URL first (up to iMessage's 100 MB), and the message's
  // text, if any, follows as a message of its own once the attachment is sent.
  void SendAttachment(OutboundMessage m, std::function<void(SubmitResult)> done) {
    std::string url = m.media_url;  // (m moves into the callback below)
    Raw(HttpRequestSpec{"GET", std::move(url), "", "", settings_.send_timeout, 100u << 20, true},
        [self = shared_from_this(), m = std::move(m),
         done = std::move(done)](HttpReply media) mutable {
          if (media.status < 200 || media.status >= 300) {
            self->sent_.erase(m.handle);
            return done(SubmitResult{
                SubmitOutcome::kRejected,
                "cannot fetch the attachment " + m.media_url + ": " +
                    (media.status ? "HTTP " + std::to_string(media.status) : media.error),
                {}});
          }
          self->PostAttachment(std::move(m), std::move(media.body), std::move(done));
        });
  }

  void PostAttachment(OutboundMessage m, std::string bytes,
                      std::function<void(SubmitResult)> done) {
    const std::string chat = sent_[m.handle].chat;
    std::string name = m.media_url.substr(m.media_url.find_last_of('/') + 1);
    name = name.substr(0, name.find_first_of("?#"));
    if (name.empty()) name = "attachment";
    const std::string boundary = "bluegate-" + WebhookToken(m.handle, line_);
    std::string body;
    auto field = [&](const std::string& key, const std::string& value) {
      body += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + key + "\"\r\n\r\n" +
              value + "\r\n";
    };
    field("chatGuid", chat);
    field("tempGuid", m.handle);
    field("name", name);
    field("method", settings_.private_api ? "private-api" : "apple-script");
    if (const std::string effect = EffectId(m.send_style);
        settings_.private_api && !effect.empty()) {
      field("effectId", effect);
    }
    body += "--" + boundary +
            "\r\nContent-Disposition: form-data; name=\"attachment\"; filename=\"" + name +
            "\"\r\nContent-Type: application/octet-stream\r\n\r\n";
    body += bytes;
    body += "\r\n--" + boundary + "--\r\n";
    Call(
        "POST", "/api/v1/message/attachment", "", std::move(body), settings_.send_timeout,
        [self = shared_from_this(), m, done = std::move(done)](HttpReply r) {
          const bool ok = r.status == 200;
          self->OnSent(m.handle, std::move(r), done);
          if (ok && !m.content.empty())
            self->SendCaption(m, self->sent_.contains(m.handle) ? self->sent_[m.handle].chat
                                                                : "iMessage;-;" + m.to);
        },
        "multipart/form-data; boundary=" + boundary);
  }

  // The text that came with an attachment, as its own message after it. The message's status is
  // the attachment's: a failure here is logged, not reported.
  void SendCaption(const OutboundMessage& m, const std::string& chat) {
    rapidjson::StringBuffer buf;
    JsonWriter w(buf);
    w.StartObject();
    w.Key("chatGuid");
    w.String(chat.c_str());
    w.Key("tempGuid");
    const std::string temp = m.handle + "-text";
    w.String(temp.c_str());
    w.Key("message");
    w.String(m.content.c_str());
    w.Key("method");
    w.String(settings_.private_api ? "private-api" : "apple-script");
    w.EndObject();
    Call("POST", "/api/v1/message/text", "", std::string(buf.GetString(), buf.GetSize()),
         settings_.send_timeout, [line = line_, handle = m.handle](HttpReply r) {
           if (r.status != 200) {
             spdlog::warn("line {}: the text of {} (sent after its attachment) failed: {}", line,
                          handle, r.status ? "HTTP " + std::to_string(r.status) : r.error);
           }
         });
  }

  void OnSent(const std::string& handle, HttpReply r,
              const std::function<void(SubmitResult)>& done) {
    rapidjson::Document d;
    const rapidjson::Value* data = ParseJson(r.body, d) ? Obj(d, "data") : nullptr;
    if (r.status == 200 && data) {
      done(SubmitResult{SubmitOutcome::kAccepted, {}, {}});
      return Update(handle, *data);
    }
    if (r.status == 0 && r.timed_out) {
      // The server may still be sending: it is looked for by tempGuid before any re-send.
      return done(SubmitResult{SubmitOutcome::kUnknown,
                               "the BlueBubbles server did not answer the send within " +
                                   std::to_string(settings_.send_timeout.count()) + " ms",
                               {}});
    }
    if (r.status == 0 || r.status == 401 || r.status == 502 || r.status == 503) {
      sent_.erase(handle);
      return done(SubmitResult{SubmitOutcome::kDisconnected,
                               r.status ? "HTTP " + std::to_string(r.status) : r.error,
                               {}});
    }
    sent_.erase(handle);
    std::string why = d.HasParseError() ? "" : Str(d, "message");
    if (const rapidjson::Value* e = d.HasParseError() ? nullptr : Obj(d, "error")) {
      why += (why.empty() ? "" : ": ") + Str(*e, "error");
    }
    if (data) why += " (message error " + std::to_string(Num(*data, "error")) + ")";
    done(SubmitResult{SubmitOutcome::kRejected,
                      "BlueBubbles could not send it: HTTP " + std::to_string(r.status) +
                          (why.empty() ? "" : " " + why),
                      {}});
  }

  // What the server says of one of our messages (a send's answer, a webhook, a query row).
  void Update(const std::string& handle, const rapidjson::Value& m) {
    auto it = sent_.find(handle);
    if (it == sent_.end()) return;
    Sent& s = it->second;
    if (const std::string guid = Str(m, "guid"); !guid.empty() && s.guid.empty()) {
      s.guid = guid;
      by_guid_[guid] = handle;
    }
    const std::string chat = ChatGuidOf(m).empty() ? s.chat : ChatGuidOf(m);
    if (const int64_t error = Num(m, "error"); error != 0) {
      CarrierEvent e = StatusEvent(s, Status::kError, chat);
      e.error = MessageError{ErrorCode::kFailedToSend, "The carrier could not deliver the message",
                             "carrier_undelivered",
                             "Messages on the Mac reported error " + std::to_string(error)};
      s.status = Status::kError;
      Emit(std::move(e));
      return Forget(handle);
    }
    if (s.status == Status::kAccepted) {
      s.status = Status::kSent;
      Emit(StatusEvent(s, Status::kSent, chat));
    }
    if (Num(m, "dateDelivered") > 0 && s.status == Status::kSent) {
      s.status = Status::kDelivered;
      Emit(StatusEvent(s, Status::kDelivered, chat));
    }
    if (Num(m, "dateRead") > 0 && !s.read) {
      s.read = true;
      CarrierEvent e = StatusEvent(s, Status::kDelivered, chat);
      e.kind = CarrierEvent::Kind::kRead;
      e.at = FromUnixMillis(Num(m, "dateRead"));
      Emit(std::move(e));
    }
  }

  void Forget(const std::string& handle) {
    auto it = sent_.find(handle);
    if (it == sent_.end()) return;
    if (!it->second.guid.empty()) by_guid_.erase(it->second.guid);
    sent_.erase(it);
  }

  CarrierEvent StatusEvent(const Sent& s, Status status, const std::string& chat) const {
    CarrierEvent e;
    e.kind = CarrierEvent::Kind::kStatus;
    e.at = clock_.Now();
    e.line = line_;
    e.message_id = s.message_id;
    e.handle = s.handle;
    e.status = status;
    e.service = ServiceOfChat(chat);
    e.was_downgraded = e.service == Service::kSms && s.chat.starts_with("iMessage;");
    return e;
  }

  // The handle of our message a server row is about: its tempGuid, its guid, or (for rows that
  // carry neither, as the query's do) an outgoing message with the same text in the same chat,
  // sent since we submitted, that is not already someone else's.
  std::string HandleOf(const rapidjson::Value& m) {
    if (const std::string t = Str(m, "tempGuid"); !t.empty() && sent_.contains(t)) return t;
    if (auto it = by_guid_.find(Str(m, "guid")); it != by_guid_.end()) return it->second;
    if (!Bool(m, "isFromMe")) return "";
    const std::string chat = ChatGuidOf(m);
    const std::string text = Str(m, "text");
    const int64_t created = Num(m, "dateCreated");
    for (auto& [handle, s] : sent_) {
      if (!s.guid.empty() || s.text != text || (!chat.empty() && chat != s.chat)) continue;
      if (created + 60'000 < ToUnixMillis(s.submitted)) continue;  // older than our send
      return handle;
    }
    return "";
  }

  // --- Finding an unanswered send ------------------------------------------------------------

  void Search(OutboundMessage m, TimePoint deadline,
              std::function<void(std::optional<ReconcileResult>)> done) {
    if (!sent_.contains(m.handle)) {
      // Not sent by this process (a restart): look for it from an hour back.
      Sent s;
      s.message_id = m.message_id;
      s.handle = m.handle;
      s.chat = ChatFor(m);
      s.text = m.media_url.empty() ? m.content : m.content + "\n" + m.media_url;
      s.submitted = clock_.Now() - std::chrono::hours(1);
      sent_[m.handle] = s;
    }
    if (auto r = Known(m.handle)) return done(r);
    QueryRecent(
        [self = shared_from_this(), m = std::move(m), deadline, done = std::move(done)]() mutable {
          if (auto r = self->Known(m.handle)) return done(r);
          if (self->clock_.Now() >= deadline) {
            // Not on the server after all this time: it never went out, so it may go again.
            self->Forget(m.handle);
            return done(std::nullopt);
          }
          auto timer = std::make_shared<asio::steady_timer>(self->strand_, Millis(500));
          timer->async_wait([self, timer, m = std::move(m), deadline,
                             done = std::move(done)](const boost::system::error_code&) mutable {
            self->Search(std::move(m), deadline, std::move(done));
          });
        });
  }

  // What the server has told of the message, if it has.
  std::optional<ReconcileResult> Known(const std::string& handle) {
    auto it = sent_.find(handle);
    if (it == sent_.end() || it->second.guid.empty()) return std::nullopt;
    ReconcileResult r;
    r.status = it->second.status == Status::kAccepted ? Status::kSent : it->second.status;
    r.service = ServiceOfChat(it->second.chat);
    r.was_downgraded = false;
    return r;
  }

  // Reads the server's outgoing messages since the oldest unfinished send and applies them.
  void QueryRecent(std::function<void()> then) {
    TimePoint oldest = clock_.Now();
    for (const auto& [h, s] : sent_) oldest = std::min(oldest, s.submitted);
    rapidjson::StringBuffer buf;
    JsonWriter w(buf);
    w.StartObject();
    w.Key("limit");
    w.Int(1000);
    w.Key("sort");
    w.String("ASC");
    w.Key("after");
    w.Int64(ToUnixMillis(oldest) - 60'000);
    w.Key("with");
    w.StartArray();
    w.String("chat");
    w.EndArray();
    w.EndObject();
    Call("POST", "/api/v1/message/query", "", std::string(buf.GetString(), buf.GetSize()),
         settings_.request_timeout,
         [self = shared_from_this(), then = std::move(then)](HttpReply r) {
           rapidjson::Document d;
           if (r.status == 200 && ParseJson(r.body, d) && d.IsObject()) {
             auto it = d.FindMember("data");
             if (it != d.MemberEnd() && it->value.IsArray()) {
               for (const auto& m : it->value.GetArray()) {
                 if (const std::string h = self->HandleOf(m); !h.empty()) self->Update(h, m);
               }
             }
           }
           then();
         });
  }

  // --- Webhooks ------------------------------------------------------------------------------

  void OnWebhook(const std::string& body) {
    rapidjson::Document d;
    if (!ParseJson(body, d) || !d.IsObject()) {
      spdlog::warn("line {}: unreadable BlueBubbles webhook ({} bytes)", line_, body.size());
      return;
    }
    const std::string type = Str(d, "type");
    const rapidjson::Value* data = Obj(d, "data");
    if (!data) return;
    if (type == "new-message" || type == "updated-message") {
      if (const std::string h = HandleOf(*data); !h.empty()) return Update(h, *data);
      if (type == "new-message" && !Bool(*data, "isFromMe")) return Inbound(*data);
    } else if (type == "message-send-error") {
      std::string h = HandleOf(*data);
      if (h.empty()) return;
      rapidjson::Document failed;
      failed.CopyFrom(*data, failed.GetAllocator());
      if (Num(failed, "error") == 0) {
        failed.RemoveMember("error");
        failed.AddMember("error", 1, failed.GetAllocator());
      }
      Update(h, failed);
    } else if (type == "typing-indicator") {
      const std::string from = AddressOfChat(Str(*data, "guid"));
      if (from.empty()) return;
      CarrierEvent e;
      e.kind = CarrierEvent::Kind::kTyping;
      e.at = clock_.Now();
      e.line = line_;
      e.from = from;
      e.is_typing = Bool(*data, "display");
      Emit(std::move(e));
    }
  }

  void Inbound(const rapidjson::Value& m) {
    const rapidjson::Value* handle = Obj(m, "handle");
    std::string from = handle ? Str(*handle, "address") : "";
    if (from.empty()) from = AddressOfChat(ChatGuidOf(m));
    if (from.empty()) return;  // a group chat's message with no sender: nothing to file it under
    CarrierEvent e;
    e.kind = CarrierEvent::Kind::kInbound;
    e.at = Num(m, "dateCreated") > 0 ? FromUnixMillis(Num(m, "dateCreated")) : clock_.Now();
    e.line = line_;
    e.from = from;
    e.content = Str(m, "text");
    e.service = ServiceOfChat(ChatGuidOf(m));
    Emit(std::move(e));
  }

  // --- Signals -------------------------------------------------------------------------------

  void DoSignal(Signal s, std::function<void(Result<Ok>)> done) {
    const std::string chat = "iMessage;-;" + s.to;
    const std::string chat_path = "/api/v1/chat/" + PercentEncode(chat);
    auto finish = [done = std::move(done)](HttpReply r) {
      if (r.status >= 200 && r.status < 300) return done(Ok{});
      done(Error{r.status ? ErrorKind::kRejected : ErrorKind::kDisconnected,
                 "the BlueBubbles server answered " +
                     (r.status ? "HTTP " + std::to_string(r.status) : r.error),
                 ErrorCode::kValidation,
                 {}});
    };
    switch (s.kind) {
      case Signal::Kind::kTypingStart:
        return Call("POST", chat_path + "/typing", "", "", settings_.request_timeout,
                    std::move(finish));
      case Signal::Kind::kTypingStop:
        return Call("DELETE", chat_path + "/typing", "", "", settings_.request_timeout,
                    std::move(finish));
      case Signal::Kind::kMarkRead:
        return Call("POST", chat_path + "/read", "", "", settings_.request_timeout,
                    std::move(finish));
      case Signal::Kind::kReaction: {
        auto it = sent_.find(s.message_handle);
        if (it == sent_.end() || it->second.guid.empty()) {
          return finish(HttpReply{404, "", "", false});
        }
        rapidjson::StringBuffer buf;
        JsonWriter w(buf);
        w.StartObject();
        w.Key("chatGuid");
        w.String(it->second.chat.c_str());
        w.Key("selectedMessageGuid");
        w.String(it->second.guid.c_str());
        w.Key("reaction");
        w.String(s.reaction.c_str());
        w.EndObject();
        return Call("POST", "/api/v1/message/react", "",
                    std::string(buf.GetString(), buf.GetSize()), settings_.request_timeout,
                    std::move(finish));
      }
    }
  }

  // --- Upkeep --------------------------------------------------------------------------------

  // Every poll_interval: the webhook is registered (once the server answers), and messages still
  // waiting for news are looked up, in case a webhook was lost.
  void Poll() {
    if (stopped_) return;
    if (!webhook_registered_) RegisterWebhook();
    bool waiting = false;
    for (const auto& [h, s] : sent_) waiting = waiting || s.status == Status::kSent;
    if (waiting) {
      QueryRecent([] {});
    } else {
      Call("GET", "/api/v1/ping", "", "", settings_.request_timeout, [](HttpReply) {});
    }
    // Messages the server has said all it will about, or that are a week old, are let go.
    const TimePoint old = clock_.Now() - std::chrono::hours(24 * 7);
    for (auto it = sent_.begin(); it != sent_.end();) {
      const bool done = (it->second.status == Status::kDelivered && it->second.read) ||
                        it->second.submitted < old;
      if (done && !it->second.guid.empty()) by_guid_.erase(it->second.guid);
      it = done ? sent_.erase(it) : std::next(it);
    }
    poll_timer_.expires_after(settings_.poll_interval);
    poll_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (!ec) self->Poll();
    });
  }

  std::string WebhookUrl() const {
    if (!settings_.webhook_url.empty()) return settings_.webhook_url;
    return public_url_() + "/api/v2/carriers/bluebubbles/" + line_ + "?token=" + token_;
  }

  void RegisterWebhook() {
    const std::string url = WebhookUrl();
    Call("GET", "/api/v1/webhook", "&url=" + PercentEncode(url), "", settings_.request_timeout,
         [self = shared_from_this(), url](HttpReply r) {
           if (r.status != 200) return;
           rapidjson::Document d;
           if (ParseJson(r.body, d) && d.IsObject()) {
             auto it = d.FindMember("data");
             if (it != d.MemberEnd() && it->value.IsArray() && !it->value.Empty()) {
               self->webhook_registered_ = true;
               return;
             }
           }
           rapidjson::StringBuffer buf;
           JsonWriter w(buf);
           w.StartObject();
           w.Key("url");
           w.String(url.c_str());
           w.Key("events");
           w.StartArray();
           for (const char* e :
                {"new-message", "updated-message", "message-send-error", "typing-indicator"}) {
             w.String(e);
           }
           w.EndArray();
           w.EndObject();
           self->Call("POST", "/api/v1/webhook", "", std::string(buf.GetString(), buf.GetSize()),
                      self->settings_.request_timeout, [self](HttpReply created) {
                        if (created.status == 200) {
                          self->webhook_registered_ = true;
                          spdlog::info(
                              "line {}: registered its webhook with the BlueBubbles "
                              "server",
                              self->line_);
                        }
                      });
         });
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

class BlueBubblesCarrier final : public Carrier {
 public:
  explicit BlueBubblesCarrier(std::shared_ptr<Session> s) : s_(std::move(s)) { s_->Start(); }
  ~BlueBubblesCarrier() override { s_->Stop(); }
  void Submit(OutboundMessage m, std::function<void(SubmitResult)> done) override {
    s_->Submit(std::move(m), std::move(done));
  }
  void Reconcile(OutboundMessage m,
                 std::function<void(std::optional<ReconcileResult>)> done) override {
    s_->Reconcile(std::move(m), std::move(done));
  }
  void Lookup(std::string address, std::function<void(LookupResult)> done) override {
    s_->Lookup(std::move(address), std::move(done));
  }
  void Send(Signal s, std::function<void(Result<Ok>)> done) override {
    s_->Send(std::move(s), std::move(done));
  }
  std::string_view name() const override { return "bluebubbles"; }
  Result<Ok> Push(std::string_view token, std::string body) override {
    return s_->Push(token, std::move(body));
  }

 private:
  std::shared_ptr<Session> s_;
};

}  // namespace

Result<BlueBubblesSettings> ParseBlueBubblesSettings(const CarrierOptions& o) {
  if (auto r = CheckCarrierOptions("bluebubbles", o); !r.ok()) return r.error();
  BlueBubblesSettings s;
  s.url = StringOption(o, "url");
  while (!s.url.empty() && s.url.back() == '/') s.url.pop_back();
  if (!s.url.starts_with("http://") && !s.url.starts_with("https://")) {
    return Error::Invalid("option url must be the server's http:// or https:// address, not \"" +
                          s.url + "\"");
  }
  s.password = StringOption(o, "password");
  if (s.password.empty()) return Error::Invalid("option password must not be empty");
  s.webhook_url = StringOption(o, "webhook_url");
  auto priv = BoolOption(o, "private_api", false);
  if (!priv.ok()) return priv.error();
  s.private_api = priv.value();
  auto poll = DurationOption(o, "poll_interval", s.poll_interval);
  if (!poll.ok()) return poll.error();
  s.poll_interval = poll.value();
  auto send = DurationOption(o, "send_timeout", s.send_timeout);
  if (!send.ok()) return send.error();
  s.send_timeout = send.value();
  s.unknown_search = std::min(s.unknown_search, 2 * s.send_timeout);
  return s;
}

std::string WebhookToken(const std::string& password, const std::string& line) {
  const std::string input = "bluegate-bluebubbles-webhook\n" + password + "\n" + line;
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest);
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 16; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 15];
  }
  return out;
}

std::string EffectId(std::string_view style) {
  static const std::pair<std::string_view, std::string_view> kEffects[] = {
      {"slam", "com.apple.MobileSMS.expressivesend.impact"},
      {"loud", "com.apple.MobileSMS.expressivesend.loud"},
      {"gentle", "com.apple.MobileSMS.expressivesend.gentle"},
      {"invisible", "com.apple.MobileSMS.expressivesend.invisibleink"},
      {"echo", "com.apple.messages.effect.CKEchoEffect"},
      {"spotlight", "com.apple.messages.effect.CKSpotlightEffect"},
      {"balloons", "com.apple.messages.effect.CKHappyBirthdayEffect"},
      {"confetti", "com.apple.messages.effect.CKConfettiEffect"},
      {"love", "com.apple.messages.effect.CKHeartEffect"},
      {"lasers", "com.apple.messages.effect.CKLasersEffect"},
      {"fireworks", "com.apple.messages.effect.CKFireworksEffect"},
      {"shooting_star", "com.apple.messages.effect.CKShootingStarEffect"},
      {"celebration", "com.apple.messages.effect.CKSparklesEffect"},
  };
  for (const auto& [name, id] : kEffects) {
    if (name == style) return std::string(id);
  }
  return "";
}

HttpFn HttpOver(net::HttpClient& server, net::HttpClient& media) {
  return [&server, &media](HttpRequestSpec spec, std::function<void(HttpReply)> done) {
    auto parsed = ParseHttpUrl(spec.url);
    if (!parsed) return done({0, "", "not an http(s) URL", false});
    net::HttpCall call;
    call.method = std::move(spec.method);
    call.url = *parsed;
    call.body = std::move(spec.body);
    if (!spec.content_type.empty()) call.headers.emplace_back("content-type", spec.content_type);
    call.timeout = spec.timeout;
    call.max_response_bytes = spec.max_response_bytes;
    (spec.untrusted ? media : server)
        .Call(std::move(call), [done = std::move(done)](net::PostResult r) {
          const bool timed_out = r.status == 0 && r.error.starts_with("timed out");
          done({r.status, std::move(r.body), std::move(r.error), timed_out});
        });
  };
}

std::unique_ptr<Carrier> MakeBlueBubblesCarrier(asio::io_context& io, CarrierSink& sink,
                                                Clock& clock, BlueBubblesSettings settings,
                                                std::string line, HttpFn http,
                                                std::function<std::string()> public_url) {
  return std::make_unique<BlueBubblesCarrier>(
      std::make_shared<Session>(io, sink, clock, std::move(settings), std::move(line),
                                std::move(http), std::move(public_url)));
}

}  // namespace bluegate::carriers::bluebubbles
