// What an app shows a contact besides messages, and what it asks the carrier about one:
// GET /api/evaluate-service, POST /api/send-typing-indicator, /api/mark-read, /api/send-reaction.
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "api/api.h"
#include "api/http_errors.h"
#include "api/request_decoding.h"

namespace bluegate::api {
namespace {

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

constexpr const char* kReactions[] = {"love", "like", "dislike", "laugh", "emphasize", "question"};

template <typename Fill>
HttpResponse Json(Fill fill) {
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  fill(w);
  w.EndObject();
  return JsonResponse(200, std::string(buf.GetString(), buf.GetSize()));
}

bool LooksLikeEmail(std::string_view s) {
  const size_t at = s.find('@');
  return at != std::string_view::npos && at > 0 && s.find('.', at) != std::string_view::npos &&
         s.find(' ') == std::string_view::npos && s.back() != '.';
}

// The line a conversation with `contact` runs on: the line it is bound to, which `from_number`
// (when given) must be. Typing bubbles and read receipts need a conversation (SPEC §4).
Result<store::Line> ConversationLine(ApiContext& ctx, const Principal& principal,
                                     const std::string& contact,
                                     const std::optional<std::string>& from_number) {
  std::optional<std::string> from;
  if (from_number) {
    auto n = ctx.phones.Normalize(*from_number, "from_number");
    if (!n.ok()) return n.error();
    from = n.value();
  }
  auto route = ctx.store.contacts.FindRoute(principal.account.id, contact);
  if (!route.ok()) return route.error();
  if (!route.value()) {
    // Sendblue's words: clients (the Chat SDK adapter) recognise this message.
    return Error::Invalid("No route mapping: number " + contact +
                          " has no conversation with this account yet: send or receive a "
                          "message first");
  }
  if (from && *from != *route.value()) return BoundToAnotherLine(contact, *route.value());
  auto line = ctx.outbound.FindLineServing(*route.value(), principal.account.id);
  if (!line) {
    return Error::Invalid("from_number " + *route.value() + " is not a line of this account");
  }
  return *line;
}

struct ContactAndLine {
  std::string contact;
  store::Line line;
};

Result<ContactAndLine> ParseConversation(ApiContext& ctx, const Principal& principal,
                                         const rapidjson::Document& doc) {
  auto number = StringMember(doc, "number");
  if (!number.ok()) return number.error();
  if (!number.value()) return Error::Invalid("number is required: the contact's phone number");
  auto contact = ctx.phones.Normalize(**number, "number");
  if (!contact.ok()) return contact.error();
  auto from = StringMember(doc, "from_number");
  if (!from.ok()) return from.error();
  auto line = ConversationLine(ctx, principal, contact.value(), from.value());
  if (!line.ok()) return line.error();
  return ContactAndLine{contact.value(), line.value()};
}

}  // namespace

void HandleEvaluateService(ApiContext& ctx, const Principal& principal, const HttpRequest& req,
                           Responder respond) {
  auto q = ParseQuery(req.query);
  auto it = q.find("number");
  if (it == q.end() || it->second.empty()) {
    return respond(ErrorResponse(
        Error::Invalid("number is required: a phone number in E.164 format or an email")));
  }
  std::string address;
  if (it->second.find('@') != std::string::npos) {
    if (!LooksLikeEmail(it->second)) {
      return respond(ErrorResponse(
          Error::Invalid("number " + it->second + " is neither a phone number nor an email")));
    }
    address = it->second;
  } else {
    auto n = ctx.phones.Normalize(NormalizeQueryPhone(it->second), "number");
    if (!n.ok()) return respond(ErrorResponse(n.error()));
    address = n.value();
  }
  // Through the line the contact is bound to, or else the account's first line.
  std::optional<store::Line> line;
  if (auto route = ctx.store.contacts.FindRoute(principal.account.id, address);
      route.ok() && *route) {
    line = ctx.outbound.FindLine(**route);
  }
  if (!line) {
    auto lines = ctx.store.directory.ListLines(principal.account.id);
    if (!lines.ok()) return respond(ErrorResponse(lines.error()));
    if (lines->empty()) {
      return respond(ErrorResponse(Error::Invalid("this account has no lines to look up from")));
    }
    line = lines->front();
  }
  if (ctx.forward && ctx.forward(line->number, req, respond)) return;
  ctx.outbound.Lookup(*line, address, [respond, address](carriers::LookupResult r) {
    if (!r.service) {
      return respond(
          ErrorResponse(Error{ErrorKind::kDisconnected,
                              "The service for " + address + " cannot be determined now (" +
                                  r.detail + "); retry later",
                              ErrorCode::kServerRateExceeded, Millis(5000)}));
    }
    respond(Json([&](JsonWriter& w) {
      w.Key("number");
      w.String(address.c_str());
      w.Key("service");
      w.String(ServiceName(*r.service).data());
    }));
  });
}

void HandleSendTyping(ApiContext& ctx, const Principal& principal, const HttpRequest& req,
                      Responder respond) {
  auto body = ParseJsonObject(req);
  if (!body.ok()) return respond(ErrorResponse(body.error()));
  const auto& doc = body.value();
  auto conv = ParseConversation(ctx, principal, doc);
  if (!conv.ok()) return respond(ErrorResponse(conv.error()));
  carriers::Signal s;
  s.kind = carriers::Signal::Kind::kTypingStart;
  s.line = conv->line.number;
  s.to = conv->contact;
  auto state = StringMember(doc, "state");
  if (!state.ok()) return respond(ErrorResponse(state.error()));
  if (state.value()) {
    if (**state == "stop") {
      s.kind = carriers::Signal::Kind::kTypingStop;
    } else if (**state != "start") {
      return respond(ErrorResponse(Error::Invalid("state must be start or stop")));
    }
  }
  if (auto m = doc.FindMember("max_duration_ms"); m != doc.MemberEnd() && !m->value.IsNull()) {
    if (!m->value.IsInt64() || m->value.GetInt64() < 1 || m->value.GetInt64() > 300'000) {
      return respond(
          ErrorResponse(Error::Invalid("max_duration_ms must be a whole number from 1 to 300000")));
    }
    s.max_duration = Millis(m->value.GetInt64());
  }
  if (ctx.forward && ctx.forward(conv->line.number, req, respond)) return;
  const std::string contact = conv->contact;
  ctx.outbound.SendSignal(conv->line, std::move(s), [respond, contact](Result<Ok> r) {
    if (!r.ok() && r.error().kind != ErrorKind::kRejected) {
      return respond(ErrorResponse(r.error()));
    }
    // The SDK's shape: a refusal by the carrier (SMS has no typing bubble) is status ERROR.
    respond(Json([&](JsonWriter& w) {
      w.Key("number");
      w.String(contact.c_str());
      w.Key("status");
      w.String(r.ok() ? "SENT" : "ERROR");
      w.Key("error_message");
      if (r.ok()) {
        w.Null();
      } else {
        w.String(r.error().message.c_str());
      }
    }));
  });
}

void HandleMarkRead(ApiContext& ctx, const Principal& principal, const HttpRequest& req,
                    Responder respond) {
  auto body = ParseJsonObject(req);
  if (!body.ok()) return respond(ErrorResponse(body.error()));
  auto conv = ParseConversation(ctx, principal, body.value());
  if (!conv.ok()) return respond(ErrorResponse(conv.error()));
  carriers::Signal s;
  s.kind = carriers::Signal::Kind::kMarkRead;
  s.line = conv->line.number;
  s.to = conv->contact;
  if (ctx.forward && ctx.forward(conv->line.number, req, respond)) return;
  const std::string contact = conv->contact;
  ctx.outbound.SendSignal(conv->line, std::move(s), [respond, contact](Result<Ok> r) {
    if (!r.ok()) return respond(ErrorResponse(r.error()));
    respond(Json([&](JsonWriter& w) {
      w.Key("status");
      w.String("OK");
      w.Key("number");
      w.String(contact.c_str());
    }));
  });
}

void HandleSendReaction(ApiContext& ctx, const Principal& principal, const HttpRequest& req,
                        Responder respond) {
  auto body = ParseJsonObject(req);
  if (!body.ok()) return respond(ErrorResponse(body.error()));
  const auto& doc = body.value();
  auto handle = StringMember(doc, "message_handle");
  if (!handle.ok()) return respond(ErrorResponse(handle.error()));
  if (!handle.value()) {
    return respond(
        ErrorResponse(Error::Invalid("message_handle is required: the message to react to")));
  }
  auto reaction = StringMember(doc, "reaction");
  if (!reaction.ok()) return respond(ErrorResponse(reaction.error()));
  bool known = false;
  for (const char* r : kReactions) known = known || (reaction.value() && **reaction == r);
  if (!known) {
    return respond(ErrorResponse(
        Error::Invalid("reaction must be one of love, like, dislike, laugh, emphasize, question")));
  }
  auto m = ctx.store.messages.FindMessage(principal.account.id, **handle);
  if (!m.ok()) return respond(ErrorResponse(m.error()));
  auto line = ctx.outbound.FindLine(m->line_number);
  if (!line) {
    return respond(ErrorResponse(
        Error::Invalid("the message's line " + m->line_number + " no longer exists")));
  }
  carriers::Signal s;
  s.kind = carriers::Signal::Kind::kReaction;
  s.line = line->number;
  s.to = m->contact;
  s.message_handle = m->handle;
  s.reaction = **reaction;
  if (ctx.forward && ctx.forward(line->number, req, respond)) return;
  ctx.outbound.SendSignal(*line, s, [respond, s](Result<Ok> r) {
    if (!r.ok()) return respond(ErrorResponse(r.error()));
    respond(Json([&](JsonWriter& w) {
      w.Key("status");
      w.String("OK");
      w.Key("message_handle");
      w.String(s.message_handle.c_str());
      w.Key("reaction");
      w.String(s.reaction.c_str());
    }));
  });
}

}  // namespace bluegate::api
