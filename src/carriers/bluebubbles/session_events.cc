// The session's other work: finding an unanswered send, the server's webhooks, signals, upkeep.
#include "carriers/bluebubbles/session.h"

namespace bluegate::carriers::bluebubbles {

void Session::Search(OutboundMessage m, TimePoint deadline,
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
std::optional<ReconcileResult> Session::Known(const std::string& handle) {
  auto it = sent_.find(handle);
  if (it == sent_.end() || it->second.guid.empty()) return std::nullopt;
  ReconcileResult r;
  r.status = it->second.status == Status::kAccepted ? Status::kSent : it->second.status;
  r.service = ServiceOfChat(it->second.chat);
  r.was_downgraded = false;
  return r;
}

// Reads the server's outgoing messages since the oldest unfinished send and applies them.
void Session::QueryRecent(std::function<void()> then) {
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
       settings_.request_timeout, [self = shared_from_this(), then = std::move(then)](HttpReply r) {
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

void Session::OnWebhook(const std::string& body) {
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

void Session::Inbound(const rapidjson::Value& m) {
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

void Session::DoSignal(Signal s, std::function<void(Result<Ok>)> done) {
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
      return Call("POST", "/api/v1/message/react", "", std::string(buf.GetString(), buf.GetSize()),
                  settings_.request_timeout, std::move(finish));
    }
  }
}

// Every poll_interval: the webhook is registered (once the server answers), and messages still
// waiting for news are looked up, in case a webhook was lost.
void Session::Poll() {
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
    const bool done =
        (it->second.status == Status::kDelivered && it->second.read) || it->second.submitted < old;
    if (done && !it->second.guid.empty()) by_guid_.erase(it->second.guid);
    it = done ? sent_.erase(it) : std::next(it);
  }
  poll_timer_.expires_after(settings_.poll_interval);
  poll_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (!ec) self->Poll();
  });
}

std::string Session::WebhookUrl() const {
  if (!settings_.webhook_url.empty()) return settings_.webhook_url;
  return public_url_() + "/api/v2/carriers/bluebubbles/" + line_ + "?token=" + token_;
}

void Session::RegisterWebhook() {
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

void Session::Health(LineHealth h, std::string reason) {
  if (auto e = health_.Change(line_, clock_.Now(), h, std::move(reason))) Emit(std::move(*e));
}

void Session::Emit(CarrierEvent e) {
  if (!stopped_) sink_.OnCarrierEvent(std::move(e));
}

}  // namespace bluegate::carriers::bluebubbles
