// The routes the official CLI calls for free-plan (shared-line) contacts:
// POST /accounts/verify-contact-on-shared-account registers a contact with the account, and
// GET /accounts/shared-contacts lists them with their verification and the account's shared line.
// A registered contact is verified by its first message to the shared line (SPEC.md §6).
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "api/api.h"
#include "api/http_errors.h"
#include "api/request_decoding.h"

namespace bluegate::api {
namespace {

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

// Sendblue's route objects carry a numeric id; a contact's identity is its UUID, so the number is
// a stable 53-bit hash of it (contact_id carries the UUID itself).
int64_t NumericId(const std::string& contact_id) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : contact_id) h = (h ^ c) * 1099511628211ull;
  return static_cast<int64_t>(h & ((1ull << 53) - 1));
}

void WriteRoute(JsonWriter& w, const store::Contact& c) {
  w.StartObject();
  w.Key("id");
  w.Int64(NumericId(c.contact_id));
  w.Key("contact_id");
  w.String(c.contact_id.c_str());
  w.Key("number");
  w.String(c.number.c_str());
  w.Key("verified");
  w.Bool(c.verified);
  w.Key("createdAt");
  w.String(FormatIso8601(c.created_at).c_str());
  w.EndObject();
}

// The first shared line the account sends from, if any.
std::optional<std::string> SharedLineOf(ApiContext& ctx, int64_t account_id) {
  auto lines = ctx.store.directory.ListLines(account_id);
  if (!lines.ok()) return std::nullopt;
  for (const auto& l : lines.value()) {
    if (ctx.outbound.LimitsFor(l).shared) return l.number;
  }
  return std::nullopt;
}

HttpResponse Json(const rapidjson::StringBuffer& buf) {
  return JsonResponse(200, std::string(buf.GetString(), buf.GetSize()));
}

}  // namespace

void HandleVerifyContactOnShared(ApiContext& ctx, const Principal& principal,
                                 const HttpRequest& req, Responder respond) {
  auto body = ParseJsonObject(req);
  if (!body.ok()) return respond(ErrorResponse(body.error()));
  const char* field = "recipient";
  auto text = StringMember(body.value(), field);
  if (text.ok() && !text.value()) text = StringMember(body.value(), field = "number");
  if (!text.ok()) return respond(ErrorResponse(text.error()));
  if (!text.value()) {
    return respond(ErrorResponse(Error::Invalid("recipient is required: the contact's number")));
  }
  auto recipient = ctx.phones.Normalize(**text, field);
  if (!recipient.ok()) return respond(ErrorResponse(recipient.error()));
  auto contact = ctx.store.contacts.WriteContact(principal.account.id, recipient.value(), {},
                                                 store::ContactWrite::kCreateOrUpdate);
  if (!contact.ok()) return respond(ErrorResponse(contact.error()));
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  w.Key("status");
  w.String("OK");
  w.Key("route");
  WriteRoute(w, contact.value());
  w.EndObject();
  respond(Json(buf));
}

void HandleSharedContacts(ApiContext& ctx, const Principal& principal, const HttpRequest&,
                          Responder respond) {
  store::ContactQuery q;
  q.account_id = principal.account.id;
  q.limit = 1000;
  auto contacts = ctx.store.contacts.ListContacts(q);
  if (!contacts.ok()) return respond(ErrorResponse(contacts.error()));
  const auto shared = SharedLineOf(ctx, principal.account.id);
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  w.Key("status");
  w.String("OK");
  w.Key("sharedNumber");
  if (shared) {
    w.String(shared->c_str());
  } else {
    w.Null();
  }
  w.Key("contacts");
  w.StartArray();
  for (const auto& c : contacts.value()) WriteRoute(w, c);
  w.EndArray();
  w.EndObject();
  respond(Json(buf));
}

}  // namespace bluegate::api
