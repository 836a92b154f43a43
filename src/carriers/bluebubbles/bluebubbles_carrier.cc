#include "carriers/bluebubbles/bluebubbles_carrier.h"

#include "carriers/bluebubbles/session.h"

namespace bluegate::carriers::bluebubbles {
namespace {

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
