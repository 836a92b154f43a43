#include "core/account_events.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace bluegate {
namespace {

class Json {
 public:
  Json() : w_(buf_) { w_.StartObject(); }
  Json& Str(const char* key, std::string_view value) {
    w_.Key(key);
    w_.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
    return *this;
  }
  Json& Bool(const char* key, bool value) {
    w_.Key(key);
    w_.Bool(value);
    return *this;
  }
  Json& Time(const char* key, TimePoint at) { return Str(key, FormatIso8601(at)); }
  std::string Done() {
    w_.EndObject();
    return std::string(buf_.GetString(), buf_.GetSize());
  }

 private:
  rapidjson::StringBuffer buf_;
  rapidjson::Writer<rapidjson::StringBuffer> w_;
};

}  // namespace

std::string LineBlockedJson(std::string_view line, std::string_view status,
                            std::string_view previous_status, std::string_view reason,
                            TimePoint changed_at) {
  return Json()
      .Str("type", "line_blocked")
      .Str("sendblue_number", line)
      .Str("status", status)
      .Str("previous_status", previous_status)
      .Str("reason", reason)
      .Time("changed_at", changed_at)
      .Done();
}

std::string LineBlockedEventData(std::string_view line, std::string_view status) {
  return Json().Str("sendblue_number", line).Str("status", status).Done();
}

std::string TypingJson(std::string_view from, bool is_typing, std::string_view line,
                       TimePoint at) {
  return Json()
      .Str("number", from)
      .Bool("is_typing", is_typing)
      .Str("from_number", from)
      .Str("sendblue_number", line)
      .Time("timestamp", at)
      .Done();
}

std::string LineAssignedJson(std::string_view line, std::string_view account_email,
                             std::string_view carrier, TimePoint assigned_at) {
  return Json()
      .Str("type", "line_assigned")
      .Str("sendblue_number", line)
      .Str("account_email", account_email)
      .Str("carrier", carrier)
      .Time("assigned_at", assigned_at)
      .Done();
}

std::string ContactCreatedJson(std::string_view number, std::string_view line,
                               std::string_view contact_id, TimePoint created_at) {
  return Json()
      .Str("type", "contact_created")
      .Str("number", number)
      .Str("sendblue_number", line)
      .Str("contact_id", contact_id)
      .Time("created_at", created_at)
      .Done();
}

}  // namespace bluegate
