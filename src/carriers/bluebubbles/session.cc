// The session: starting and stopping, REST calls to the server, and sends.
#include "carriers/bluebubbles/session.h"

namespace bluegate::carriers::bluebubbles {

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

Session::Session(asio::io_context& io, CarrierSink& sink, Clock& clock,
                 BlueBubblesSettings settings, std::string line, HttpFn http,
                 std::function<std::string()> public_url)
    : strand_(asio::make_strand(io)),
      sink_(sink),
      clock_(clock),
      settings_(std::move(settings)),
      line_(std::move(line)),
      http_(std::move(http)),
      public_url_(std::move(public_url)),
      token_(WebhookToken(settings_.password, line_)),
      poll_timer_(strand_) {}

void Session::Start() {
  asio::post(strand_, [self = shared_from_this()] { self->Poll(); });
}

void Session::Stop() {
  stopped_.store(true);
  asio::post(strand_, [self = shared_from_this()] { self->poll_timer_.cancel(); });
}

const BlueBubblesSettings& Session::settings() const { return settings_; }

void Session::Submit(OutboundMessage m, std::function<void(SubmitResult)> done) {
  asio::post(strand_,
             [self = shared_from_this(), m = std::move(m), done = std::move(done)]() mutable {
               self->DoSubmit(std::move(m), std::move(done));
             });
}

void Session::Reconcile(OutboundMessage m,
                        std::function<void(std::optional<ReconcileResult>)> done) {
  asio::post(strand_,
             [self = shared_from_this(), m = std::move(m), done = std::move(done)]() mutable {
               const TimePoint deadline = self->clock_.Now() + self->settings_.unknown_search;
               self->Search(std::move(m), deadline, std::move(done));
             });
}

void Session::Lookup(std::string address, std::function<void(LookupResult)> done) {
  Call("GET", "/api/v1/handle/availability/imessage", "&address=" + PercentEncode(address), "",
       settings_.request_timeout, [done = std::move(done)](HttpReply r) {
         rapidjson::Document d;
         const rapidjson::Value* data = ParseJson(r.body, d) ? Obj(d, "data") : nullptr;
         if (r.status != 200 || !data) {
           return done(LookupResult{std::nullopt,
                                    "the BlueBubbles server could not tell (" +
                                        (r.status ? "HTTP " + std::to_string(r.status) : r.error) +
                                        "; the availability check needs its Private API)"});
         }
         done(LookupResult{Bool(*data, "available") ? Service::kIMessage : Service::kSms, {}});
       });
}

void Session::Send(Signal s, std::function<void(Result<Ok>)> done) {
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

Result<Ok> Session::Push(std::string_view token, std::string body) {
  if (token.size() != token_.size() ||
      CRYPTO_memcmp(token.data(), token_.data(), token_.size()) != 0) {
    return Error{ErrorKind::kUnauthenticated, "wrong token for this line's webhook", {}, {}};
  }
  asio::post(strand_,
             [self = shared_from_this(), body = std::move(body)] { self->OnWebhook(body); });
  return Ok{};
}

// `path` under the server; the password goes as the `password` query parameter, as the
// server's API requires. URLs are never logged.
void Session::Call(const char* method, const std::string& path, const std::string& query,
                   std::string body, Millis timeout, std::function<void(HttpReply)> done,
                   std::string content_type) {
  const std::string url =
      settings_.url + path + "?password=" + PercentEncode(settings_.password) + query;
  Raw(HttpRequestSpec{method, url, std::move(body), content_type, timeout, 4 << 20, false},
      std::move(done));
}

// Any request; the answer comes back on the strand.
void Session::Raw(HttpRequestSpec spec, std::function<void(HttpReply)> done) {
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

void Session::NoteReachability(const HttpReply& r) {
  if (r.status == 401) {
    Health(LineHealth::kOffline, "the BlueBubbles server refused the password");
  } else if (r.status == 0 && !r.timed_out) {
    Health(LineHealth::kOffline, "cannot reach the BlueBubbles server: " + r.error);
  } else if (r.status > 0 && r.status < 500) {
    Health(LineHealth::kOnline, "the BlueBubbles server answers");
  }
}

void Session::DoSubmit(OutboundMessage m, std::function<void(SubmitResult)> done) {
  if (!m.group_id.empty()) {
    return done(SubmitResult{
        SubmitOutcome::kRejected, "group messages through BlueBubbles are not supported yet", {}});
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
  if (const std::string effect = EffectId(m.send_style); settings_.private_api && !effect.empty()) {
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
void Session::SendAttachment(OutboundMessage m, std::function<void(SubmitResult)> done) {
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

void Session::PostAttachment(OutboundMessage m, std::string bytes,
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
  if (const std::string effect = EffectId(m.send_style); settings_.private_api && !effect.empty()) {
    field("effectId", effect);
  }
  body += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"attachment\"; filename=\"" +
          name + "\"\r\nContent-Type: application/octet-stream\r\n\r\n";
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
void Session::SendCaption(const OutboundMessage& m, const std::string& chat) {
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

void Session::OnSent(const std::string& handle, HttpReply r,
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
    return done(SubmitResult{
        SubmitOutcome::kDisconnected, r.status ? "HTTP " + std::to_string(r.status) : r.error, {}});
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
void Session::Update(const std::string& handle, const rapidjson::Value& m) {
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

void Session::Forget(const std::string& handle) {
  auto it = sent_.find(handle);
  if (it == sent_.end()) return;
  if (!it->second.guid.empty()) by_guid_.erase(it->second.guid);
  sent_.erase(it);
}

CarrierEvent Session::StatusEvent(const Sent& s, Status status, const std::string& chat) const {
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
std::string Session::HandleOf(const rapidjson::Value& m) {
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

}  // namespace bluegate::carriers::bluebubbles
