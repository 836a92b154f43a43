#include "core/message_json.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace bluegate {
namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void Str(Writer& w, const char* key, std::string_view value) {
  w.Key(key);
  w.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
}

void OptStr(Writer& w, const char* key, const std::optional<std::string>& value) {
  w.Key(key);
  if (value) {
    w.String(value->data(), static_cast<rapidjson::SizeType>(value->size()));
  } else {
    w.Null();
  }
}

}  // namespace

std::string RenderMessageJson(const Message& m) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  const std::string created = FormatIso8601(m.date_created);
  w.StartObject();
  Str(w, "accountEmail", m.account_email);
  Str(w, "content", m.content);
  w.Key("is_outbound");
  w.Bool(m.is_outbound);
  Str(w, "status", StatusName(m.status));
  w.Key("error_code");
  if (!m.error) {
    w.Null();
  } else if (m.error->code == ErrorCode::kSmsLimitReached) {
    w.String("SMS_LIMIT_REACHED");
  } else {
    w.Int(static_cast<int>(m.error->code));
  }
  OptStr(w, "error_message", m.error ? std::optional(m.error->message) : std::nullopt);
  OptStr(w, "error_reason", m.error ? m.error->reason : std::nullopt);
  OptStr(w, "error_detail", m.error ? m.error->detail : std::nullopt);
  Str(w, "message_handle", m.handle);
  Str(w, "date_sent", created);
  Str(w, "date_updated", FormatIso8601(m.date_updated));
  Str(w, "from_number", m.from_number());
  Str(w, "number", m.contact);
  Str(w, "to_number", m.to_number());
  // true when the message fell back to SMS; otherwise null, never false (Sendblue's contract).
  w.Key("was_downgraded");
  if (m.was_downgraded.value_or(false)) {
    w.Bool(true);
  } else {
    w.Null();
  }
  Str(w, "plan", m.plan);
  Str(w, "media_url", m.media_url);
  // Only when a compressed copy replaced the app's attachment (SMS fallback): the app's URL.
  if (!m.original_media_url.empty()) Str(w, "original_media_url", m.original_media_url);
  Str(w, "message_type", m.message_type);
  Str(w, "group_id", m.group_id);
  w.Key("participants");
  w.StartArray();
  for (const auto& p : m.participants)
    w.String(p.data(), static_cast<rapidjson::SizeType>(p.size()));
  w.EndArray();
  Str(w, "send_style", m.service == Service::kSms ? std::string() : m.send_style);  // SMS: none
  w.Key("opted_out");
  w.Bool(m.opted_out);
  Str(w, "sendblue_number", m.line_number);
  Str(w, "service", ServiceName(m.service));
  w.Key("group_display_name");
  if (m.group_display_name.empty()) {
    w.Null();
  } else {
    w.String(m.group_display_name.c_str());
  }
  // Extras beyond SPEC §2 that the SDK typings name.
  Str(w, "account_email", m.account_email);
  Str(w, "date_created", created);
  w.Key("date_read");
  if (m.date_read) {
    const std::string read = FormatIso8601(*m.date_read);
    w.String(read.data(), static_cast<rapidjson::SizeType>(read.size()));
  } else {
    w.Null();
  }
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace bluegate
