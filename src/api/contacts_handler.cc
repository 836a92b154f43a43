// /api/v2/contacts: the sendblue SDK's `contacts` resource (create, retrieve, update, list,
// count, delete, bulk create and delete, opt-out, verify), field names and aliases as it sends
// them. docs/api.md describes the shapes.
#include <future>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "api/api.h"
#include "api/http_errors.h"
#include "api/request_decoding.h"
#include "core/url.h"

namespace bluegate::api {
namespace {

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

constexpr std::string_view kPrefix = "/api/v2/contacts";

void WriteString(JsonWriter& w, const char* key, const std::string& value) {
  w.Key(key);
  w.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
}

void WriteContact(JsonWriter& w, const store::Contact& c) {
  w.StartObject();
  WriteString(w, "contact_id", c.contact_id);
  WriteString(w, "phone", c.number);
  WriteString(w, "first_name", c.first_name);
  WriteString(w, "last_name", c.last_name);
  WriteString(w, "company_name", c.company_name);
  WriteString(w, "assigned_to_email", c.assigned_to_email);
  w.Key("tags");
  w.StartArray();
  for (const auto& t : c.tags) w.String(t.data(), static_cast<rapidjson::SizeType>(t.size()));
  w.EndArray();
  w.Key("custom_variables");
  w.StartObject();
  for (const auto& [k, v] : c.custom_variables) {
    w.Key(k.data(), static_cast<rapidjson::SizeType>(k.size()));
    w.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
  }
  w.EndObject();
  w.Key("opt_out");
  w.Bool(c.opted_out);
  w.Key("verified");
  w.Bool(c.verified);
  w.Key("sendblue_number");
  if (c.line) {
    w.String(c.line->c_str());
  } else {
    w.Null();
  }
  WriteString(w, "created_at", FormatIso8601(c.created_at));
  WriteString(w, "updated_at", FormatIso8601(c.updated_at));
  w.EndObject();
}

// {"status":"OK", <extra>} with `extra` written by `fill`.
template <typename Fill>
HttpResponse Ok(int status, Fill fill) {
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  w.Key("status");
  w.String("OK");
  fill(w);
  w.EndObject();
  return JsonResponse(status, std::string(buf.GetString(), buf.GetSize()));
}

HttpResponse OneContact(int status, const store::Contact& c) {
  return Ok(status, [&c](JsonWriter& w) {
    w.Key("contact");
    WriteContact(w, c);
  });
}

// The first of `names` present (preferred name first, then the SDK's deprecated aliases).
const rapidjson::Value* Member(const rapidjson::Value& obj,
                               std::initializer_list<const char*> names, std::string* which) {
  for (const char* n : names) {
    auto it = obj.FindMember(n);
    if (it != obj.MemberEnd() && !it->value.IsNull()) {
      if (which) *which = n;
      return &it->value;
    }
  }
  return nullptr;
}

Result<std::optional<std::string>> StringField(const rapidjson::Value& obj,
                                               std::initializer_list<const char*> names,
                                               const std::string& where) {
  std::string which;
  const auto* v = Member(obj, names, &which);
  if (!v) return std::optional<std::string>();
  if (!v->IsString()) return Error::Invalid(where + which + " must be a string");
  return std::optional<std::string>(std::string(v->GetString(), v->GetStringLength()));
}

Result<std::string> PhoneField(const rapidjson::Value& obj,
                               std::initializer_list<const char*> names, const std::string& where,
                               const PhoneNumbers& phones) {
  auto text = StringField(obj, names, where);
  if (!text.ok()) return text.error();
  const std::string first = where + *names.begin();
  if (!text.value()) return Error::Invalid(first + " is required: the contact's phone number");
  std::string which;
  Member(obj, names, &which);
  return phones.Normalize(**text, where + which);
}

// The profile fields of a create, update or bulk entry. `where` prefixes field names in errors
// ("contacts[3]." in a bulk body).
Result<store::ContactFields> ParseFields(ApiContext& ctx, const Principal& principal,
                                         const rapidjson::Value& obj, const std::string& where) {
  store::ContactFields f;
  struct Text {
    std::initializer_list<const char*> names;
    std::optional<std::string>* out;
  };
  for (const Text& t : {Text{{"first_name", "firstName"}, &f.first_name},
                        Text{{"last_name", "lastName"}, &f.last_name},
                        Text{{"company_name", "companyName"}, &f.company_name},
                        Text{{"assigned_to_email", "assignedToEmail"}, &f.assigned_to_email}}) {
    auto v = StringField(obj, t.names, where);
    if (!v.ok()) return v.error();
    *t.out = std::move(v).value();
  }
  std::string which;
  if (const auto* tags = Member(obj, {"tags"}, &which)) {
    if (!tags->IsArray()) return Error::Invalid(where + "tags must be an array of strings");
    std::vector<std::string> list;
    for (rapidjson::SizeType i = 0; i < tags->Size(); ++i) {
      if (!(*tags)[i].IsString()) {
        return Error::Invalid(where + "tags[" + std::to_string(i) + "] must be a string");
      }
      list.emplace_back((*tags)[i].GetString(), (*tags)[i].GetStringLength());
    }
    f.tags = std::move(list);
  }
  if (const auto* vars = Member(obj, {"custom_variables", "customVariables"}, &which)) {
    if (!vars->IsObject()) {
      return Error::Invalid(where + which + " must be an object of labels to string values");
    }
    for (const auto& m : vars->GetObject()) {
      const std::string key(m.name.GetString(), m.name.GetStringLength());
      if (key.empty()) return Error::Invalid(where + which + " has an empty label");
      if (m.value.IsString()) {
        f.custom_variables[key] = std::string(m.value.GetString(), m.value.GetStringLength());
      } else if (m.value.IsNumber() || m.value.IsBool()) {
        rapidjson::StringBuffer b;
        rapidjson::Writer<rapidjson::StringBuffer> w(b);
        m.value.Accept(w);
        f.custom_variables[key] = std::string(b.GetString(), b.GetSize());
      } else {
        return Error::Invalid(where + which + "." + key + " must be a string");
      }
    }
  }
  if (const auto* opt = Member(obj, {"opt_out", "optOut"}, &which)) {
    if (!opt->IsBool()) return Error::Invalid(where + which + " must be true or false");
    f.opted_out = opt->GetBool();
  }
  auto line = StringField(obj, {"sendblue_number", "sendblueNumber"}, where);
  if (!line.ok()) return line.error();
  if (line.value()) {
    Member(obj, {"sendblue_number", "sendblueNumber"}, &which);
    auto n = ctx.phones.Normalize(**line, where + which);
    if (!n.ok()) return n.error();
    auto l = ctx.outbound.FindLineServing(n.value(), principal.account.id);
    if (!l) {
      return Error::Invalid(where + which + " " + n.value() +
                            " is not a line of this account (GET /api/lines lists them)");
    }
    f.line = n.value();
  }
  return f;
}

// A phone number from the path: "+" is a plus there (SPEC.md §1), %2B too.
Result<std::string> PathPhone(ApiContext& ctx, std::string_view segment) {
  return ctx.phones.Normalize(PercentDecode(segment, false), "the phone number in the path");
}

void Create(ApiContext& ctx, const Principal& principal, const HttpRequest& req,
            const Responder& respond) {
  auto body = ParseJsonObject(req);
  if (!body.ok()) return respond(ErrorResponse(body.error()));
  const auto& doc = body.value();
  auto number = PhoneField(doc, {"number", "phone_number", "phoneNumber", "phone"}, "", ctx.phones);
  if (!number.ok()) return respond(ErrorResponse(number.error()));
  auto fields = ParseFields(ctx, principal, doc, "");
  if (!fields.ok()) return respond(ErrorResponse(fields.error()));
  bool update = false;
  if (const auto* u = Member(doc, {"update_if_exists"}, nullptr)) {
    if (!u->IsBool())
      return respond(ErrorResponse(Error::Invalid("update_if_exists must be true or false")));
    update = u->GetBool();
  }
  auto c = ctx.store.contacts.WriteContact(
      principal.account.id, number.value(), fields.value(),
      update ? store::ContactWrite::kCreateOrUpdate : store::ContactWrite::kCreate);
  if (!c.ok()) {
    if (c.error().kind == ErrorKind::kConflict) {
      return respond(
          ErrorResponse(Error{ErrorKind::kConflict,
                              "number: a contact with number " + number.value() +
                                  " already exists (send update_if_exists: true to update it)",
                              ErrorCode::kValidation,
                              {}}));
    }
    return respond(ErrorResponse(c.error()));
  }
  respond(OneContact(200, c.value()));
}

void Update(ApiContext& ctx, const Principal& principal, const std::string& number,
            const HttpRequest& req, const Responder& respond) {
  auto body = ParseJsonObject(req);
  if (!body.ok()) return respond(ErrorResponse(body.error()));
  auto fields = ParseFields(ctx, principal, body.value(), "");
  if (!fields.ok()) return respond(ErrorResponse(fields.error()));
  auto c = ctx.store.contacts.WriteContact(principal.account.id, number, fields.value(),
                                           store::ContactWrite::kUpdate);
  if (!c.ok()) return respond(ErrorResponse(c.error()));
  respond(OneContact(200, c.value()));
}

void List(ApiContext& ctx, const Principal& principal, const HttpRequest& req,
          const Responder& respond) {
  auto q = ParseQuery(req.query);
  store::ContactQuery query;
  query.account_id = principal.account.id;
  auto limit = IntQueryParam(q, "limit", 100, 1, 1000);
  if (!limit.ok()) return respond(ErrorResponse(limit.error()));
  auto offset = IntQueryParam(q, "offset", 0, 0, 10'000);
  if (!offset.ok()) return respond(ErrorResponse(offset.error()));
  query.limit = limit.value();
  query.offset = offset.value();
  if (auto it = q.find("cid"); it != q.end() && !it->second.empty()) query.contact_id = it->second;
  if (auto it = q.find("phone_number"); it != q.end() && !it->second.empty()) {
    auto n = ctx.phones.Normalize(NormalizeQueryPhone(it->second), "phone_number");
    if (!n.ok()) return respond(ErrorResponse(n.error()));
    query.number = n.value();
  }
  if (auto it = q.find("created_at_gte"); it != q.end() && !it->second.empty()) {
    auto t = ParseIso8601(it->second);
    if (!t) {
      return respond(ErrorResponse(Error::Invalid(
          "created_at_gte must be an ISO 8601 timestamp such as 2025-12-12T15:35:35.410Z")));
    }
    query.created_gte = *t;
  }
  if (auto it = q.find("order_by"); it != q.end() && !it->second.empty()) {
    using Order = store::ContactQuery::Order;
    const std::string& o = it->second;
    if (o == "created_at" || o == "createdAt") {
      query.order_by = Order::kCreated;
    } else if (o == "updated_at" || o == "updatedAt") {
      query.order_by = Order::kUpdated;
    } else if (o == "phone" || o == "phone_number" || o == "number") {
      query.order_by = Order::kNumber;
    } else if (o == "first_name" || o == "firstName") {
      query.order_by = Order::kFirstName;
    } else if (o == "last_name" || o == "lastName") {
      query.order_by = Order::kLastName;
    } else {
      return respond(ErrorResponse(Error::Invalid(
          "order_by must be one of created_at, updated_at, phone, first_name, last_name")));
    }
  }
  if (auto it = q.find("order_direction"); it != q.end() && !it->second.empty()) {
    if (it->second != "asc" && it->second != "desc") {
      return respond(ErrorResponse(Error::Invalid("order_direction must be asc or desc")));
    }
    query.descending = it->second == "desc";
  }
  auto contacts = ctx.store.contacts.ListContacts(query);
  if (!contacts.ok()) return respond(ErrorResponse(contacts.error()));
  // The SDK types the list as a bare array of contacts.
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  w.StartArray();
  for (const auto& c : contacts.value()) WriteContact(w, c);
  w.EndArray();
  respond(JsonResponse(200, std::string(buf.GetString(), buf.GetSize())));
}

void BulkCreate(ApiContext& ctx, const Principal& principal, const HttpRequest& req,
                const Responder& respond) {
  auto body = ParseJsonObject(req);
  if (!body.ok()) return respond(ErrorResponse(body.error()));
  const auto* list = Member(body.value(), {"contacts"}, nullptr);
  if (!list || !list->IsArray() || list->Empty()) {
    return respond(ErrorResponse(
        Error::Invalid("contacts is required: a non-empty array of {phone, first_name, ...}")));
  }
  if (list->Size() > ctx.limits.bulk_items) {
    return respond(ErrorResponse(Error::Invalid(
        "contacts holds " + std::to_string(list->Size()) + " entries; at most " +
        std::to_string(ctx.limits.bulk_items) + " per request (contacts.max_bulk_items)")));
  }
  std::vector<std::pair<std::string, store::ContactFields>> batch;
  for (rapidjson::SizeType i = 0; i < list->Size(); ++i) {
    const std::string where = "contacts[" + std::to_string(i) + "].";
    const auto& entry = (*list)[i];
    if (!entry.IsObject()) {
      return respond(ErrorResponse(
          Error::Invalid(where.substr(0, where.size() - 1) + " must be an object {phone, ...}")));
    }
    auto number = PhoneField(entry, {"phone", "number", "phone_number"}, where, ctx.phones);
    if (!number.ok()) return respond(ErrorResponse(number.error()));
    auto fields = ParseFields(ctx, principal, entry, where);
    if (!fields.ok()) return respond(ErrorResponse(fields.error()));
    batch.emplace_back(std::move(number).value(), std::move(fields).value());
  }
  auto written = ctx.store.contacts.WriteContacts(principal.account.id, batch);
  if (!written.ok()) return respond(ErrorResponse(written.error()));
  respond(Ok(200, [&written](JsonWriter& w) {
    w.Key("contacts");
    w.StartArray();
    for (const auto& c : written.value()) WriteContact(w, c);
    w.EndArray();
  }));
}

void BulkDelete(ApiContext& ctx, const Principal& principal, const HttpRequest& req,
                const Responder& respond) {
  auto body = ParseJsonObject(req);
  if (!body.ok()) return respond(ErrorResponse(body.error()));
  const auto* ids = Member(body.value(), {"contact_ids"}, nullptr);
  if (!ids || !ids->IsArray() || ids->Empty()) {
    return respond(ErrorResponse(Error::Invalid(
        "contact_ids is required: a non-empty array of phone numbers (or contact ids)")));
  }
  if (ids->Size() > ctx.limits.bulk_items) {
    return respond(ErrorResponse(Error::Invalid("contact_ids holds at most " +
                                                std::to_string(ctx.limits.bulk_items) +
                                                " entries (contacts.max_bulk_items)")));
  }
  std::vector<std::string> keys;
  for (rapidjson::SizeType i = 0; i < ids->Size(); ++i) {
    if (!(*ids)[i].IsString()) {
      return respond(
          ErrorResponse(Error::Invalid("contact_ids[" + std::to_string(i) + "] must be a string")));
    }
    const std::string raw((*ids)[i].GetString(), (*ids)[i].GetStringLength());
    // A phone number in any accepted spelling, else a contact_id as given.
    auto n = ctx.phones.Normalize(raw, "contact_ids");
    keys.push_back(n.ok() ? n.value() : raw);
  }
  auto n = ctx.store.contacts.DeleteContacts(principal.account.id, keys);
  if (!n.ok()) return respond(ErrorResponse(n.error()));
  respond(Ok(200, [&n](JsonWriter& w) {
    w.Key("amount");
    w.Int64(n.value());
  }));
}

void OptOut(ApiContext& ctx, const Principal& principal, const HttpRequest& req,
            const Responder& respond) {
  auto body = ParseJsonObject(req);
  if (!body.ok()) return respond(ErrorResponse(body.error()));
  auto number = PhoneField(body.value(), {"number", "phone_number", "phone"}, "", ctx.phones);
  if (!number.ok()) return respond(ErrorResponse(number.error()));
  store::ContactFields f;
  f.opted_out = true;
  if (const auto* v = Member(body.value(), {"opted_out", "opt_out"}, nullptr)) {
    if (!v->IsBool())
      return respond(ErrorResponse(Error::Invalid("opted_out must be true or false")));
    f.opted_out = v->GetBool();
  }
  auto c = ctx.store.contacts.WriteContact(principal.account.id, number.value(), f,
                                           store::ContactWrite::kCreateOrUpdate);
  if (!c.ok()) return respond(ErrorResponse(c.error()));
  respond(Ok(200, [&c](JsonWriter& w) {
    WriteString(w, "number", c->number);
    w.Key("opted_out");
    w.Bool(c->opted_out);
  }));
}

// Asks the contact to write back: an inbound message verifies a contact, and shared lines send
// only to verified contacts.
void Verify(ApiContext& ctx, const Principal& principal, const HttpRequest& req,
            const Responder& respond) {
  auto body = ParseJsonObject(req);
  if (!body.ok()) return respond(ErrorResponse(body.error()));
  auto number = PhoneField(body.value(), {"number", "phone_number", "phone"}, "", ctx.phones);
  if (!number.ok()) return respond(ErrorResponse(number.error()));
  auto existing = ctx.store.contacts.FindContact(principal.account.id, number.value());
  if (existing.ok() && existing->verified) {
    return respond(Ok(200, [&](JsonWriter& w) {
      WriteString(w, "number", number.value());
      w.Key("verified");
      w.Bool(true);
      WriteString(w, "message", "The contact is already verified");
    }));
  }
  ValidSend send;
  send.contact = number.value();
  auto line = StringField(body.value(), {"from_number", "sendblue_number"}, "");
  if (!line.ok()) return respond(ErrorResponse(line.error()));
  if (line.value()) {
    auto n = ctx.phones.Normalize(**line, "from_number");
    if (!n.ok()) return respond(ErrorResponse(n.error()));
    send.line = n.value();
  }
  send.content = "Reply to this message to receive messages from " + principal.account.email +
                 " at this number.";
  SubmitOutbound(ctx, principal, std::move(send), true, [respond](Result<Message> stored) {
    if (!stored.ok()) return respond(ErrorResponse(stored.error()));
    const Message& m = stored.value();
    if (m.status == Status::kDeclined) {
      return respond(ErrorResponse(
          Error::Invalid(m.error ? m.error->message : "The verification message was declined")));
    }
    respond(Ok(200, [&m](JsonWriter& w) {
      WriteString(w, "number", m.contact);
      w.Key("verified");
      w.Bool(false);
      WriteString(w, "message_handle", m.handle);
      WriteString(w, "sendblue_number", m.line_number);
      WriteString(w, "message",
                  "Verification message sent; the contact is verified when they reply");
    }));
  });
}

}  // namespace

void HandleContacts(ApiContext& ctx, const Principal& principal, const HttpRequest& req,
                    Responder respond) {
  const std::string& method = req.method;
  const std::string_view rest = std::string_view(req.path).substr(kPrefix.size());
  const int64_t account = principal.account.id;
  if (rest.empty() || rest == "/") {
    if (method == "POST") return Create(ctx, principal, req, respond);
    if (method == "GET") return List(ctx, principal, req, respond);
    if (method == "DELETE") return BulkDelete(ctx, principal, req, respond);
  } else if (rest == "/count") {
    if (method == "GET") {
      auto n = ctx.store.contacts.CountContacts(account);
      if (!n.ok()) return respond(ErrorResponse(n.error()));
      return respond(Ok(200, [&n](JsonWriter& w) {
        w.Key("count");
        w.Int64(n.value());
      }));
    }
  } else if (rest == "/bulk") {
    if (method == "POST") return BulkCreate(ctx, principal, req, respond);
  } else if (rest == "/opt-out") {
    if (method == "POST") return OptOut(ctx, principal, req, respond);
  } else if (rest == "/verify") {
    if (method == "POST") return Verify(ctx, principal, req, respond);
  } else if (rest.find('/', 1) == std::string_view::npos) {
    auto number = PathPhone(ctx, rest.substr(1));
    if (!number.ok()) return respond(ErrorResponse(number.error()));
    if (method == "GET") {
      auto c = ctx.store.contacts.FindContact(account, number.value());
      if (!c.ok()) return respond(ErrorResponse(c.error()));
      return respond(OneContact(200, c.value()));
    }
    if (method == "PUT" || method == "PATCH") {
      return Update(ctx, principal, number.value(), req, respond);
    }
    if (method == "DELETE") {
      auto n = ctx.store.contacts.DeleteContacts(account, {number.value()});
      if (!n.ok()) return respond(ErrorResponse(n.error()));
      if (n.value() == 0) {
        return respond(ErrorResponse(Error::NotFound("no contact with number " + number.value())));
      }
      return respond(Ok(200, [](JsonWriter&) {}));
    }
  } else {
    return respond(ErrorResponse(Error::NotFound("No route for " + method + " " + req.path)));
  }
  respond(ErrorResponse(Error::NotFound("No route for " + method + " " + req.path)));
}

}  // namespace bluegate::api
