#include "api/request_decoding.h"

#include <algorithm>
#include <charconv>

#include <rapidjson/document.h>

#include "core/json.h"
#include "core/text.h"
#include "core/url.h"

namespace bluegate::api {
namespace {

bool IsForm(const HttpRequest& req) {
  auto ct = req.Header("content-type");
  if (!ct || ct->find("application/x-www-form-urlencoded") == std::string_view::npos) return false;
  // `curl -d '{...}'` labels JSON as a form: believe the body.
  const size_t first = req.body.find_first_not_of(" \t\r\n");
  return first == std::string::npos || (req.body[first] != '{' && req.body[first] != '[');
}

void Assign(SendRequest& out, std::string_view key, std::string value) {
  if (key == "number")
    out.number = std::move(value);
  else if (key == "from_number")
    out.from_number = std::move(value);
  else if (key == "content")
    out.content = std::move(value);
  else if (key == "media_url")
    out.media_url = std::move(value);
  else if (key == "send_style")
    out.send_style = std::move(value);
  else if (key == "status_callback")
    out.status_callback = std::move(value);
  else if (key == "statusCallback") {
    if (!out.status_callback) out.status_callback = std::move(value);
  }
}

constexpr std::string_view kStringFields[] = {"number",        "from_number", "content",
                                              "media_url",     "send_style",  "status_callback",
                                              "statusCallback"};
constexpr std::string_view kUnsupported[] = {"app_card", "reply_to", "seat_id"};

}  // namespace

std::map<std::string, std::string> ParseQuery(std::string_view query) {
  std::map<std::string, std::string> out;
  while (!query.empty()) {
    const size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;
    const size_t eq = pair.find('=');
    std::string key = PercentDecode(pair.substr(0, eq), true);
    std::string value =
        eq == std::string_view::npos ? "" : PercentDecode(pair.substr(eq + 1), true);
    out.emplace(std::move(key), std::move(value));
  }
  return out;
}

Result<int> IntQueryParam(const std::map<std::string, std::string>& q, const char* name, int def,
                          int min, int max) {
  auto it = q.find(name);
  if (it == q.end() || it->second.empty()) return def;
  int v = 0;
  auto [p, ec] = std::from_chars(it->second.data(), it->second.data() + it->second.size(), v);
  if (ec != std::errc() || p != it->second.data() + it->second.size() || v < min || v > max) {
    return Error::Invalid(std::string(name) + " must be a whole number from " +
                          std::to_string(min) + " to " + std::to_string(max) + "; got \"" +
                          it->second + "\"");
  }
  return v;
}

std::string NormalizeQueryPhone(std::string value) {
  if (!value.empty() && value[0] == ' ') value[0] = '+';
  return value;
}

Result<rapidjson::Document> ParseJsonObject(const HttpRequest& req) {
  if (req.body.empty()) return Error::Invalid("The request body is empty: send a JSON object");
  rapidjson::Document doc;
  if (auto parsed = ParseJson(req.body, doc); !parsed) {
    if (parsed.too_deep) {
      return Error::Invalid("The JSON body is " + parsed.error + ": the limit is " +
                            std::to_string(kMaxJsonDepth) + " levels");
    }
    return Error::Invalid("Malformed JSON body: " + parsed.error);
  }
  if (!doc.IsObject()) return Error::Invalid("The request body must be a JSON object");
  return doc;
}

Result<std::optional<std::string>> StringMember(const rapidjson::Value& obj, const char* name) {
  auto it = obj.FindMember(name);
  if (it == obj.MemberEnd() || it->value.IsNull()) return std::optional<std::string>();
  if (!it->value.IsString()) return Error::Invalid(std::string(name) + " must be a string");
  return std::optional<std::string>(
      std::string(it->value.GetString(), it->value.GetStringLength()));
}

namespace {

// One member of a send body, however it was encoded: a string, or some other JSON value.
struct Member {
  std::string_view key;
  std::optional<std::string> text;  // nullopt: not a string (JSON only)
  bool null = false;
};

// The one validation of a send body: JSON and form bodies reach here alike (their text already
// checked as UTF-8: by the JSON parser, or as the form was read), so the same fields are read,
// refused and reported the same way.
Result<SendRequest> DecodeMembers(std::vector<Member>& members) {
  SendRequest out;
  for (Member& m : members) {
    for (auto u : kUnsupported) {
      if (m.key == u && !m.null) out.unsupported.emplace_back(m.key);
    }
    bool known = false;
    for (auto f : kStringFields) known |= m.key == f;
    if (!known || m.null) continue;
    if (!m.text) return Error::Invalid(std::string(m.key) + " must be a string");
    Assign(out, m.key, std::move(*m.text));
  }
  return out;
}

}  // namespace

Result<SendRequest> DecodeSendRequest(const HttpRequest& req) {
  std::vector<Member> members;
  if (IsForm(req)) {
    // A key given twice counts once, as in JSON objects (the first wins).
    auto fields = ParseQuery(req.body);
    for (auto& [k, v] : fields) {
      if (!IsValidUtf8(k)) return Error::Invalid("a form field name is not valid UTF-8");
      if (!IsValidUtf8(v)) return Error::Invalid(k + " is not valid UTF-8");
      // '+' arrived as a space in a form's phone number.
      const bool phone = k == "number" || k == "from_number";
      members.push_back(Member{k, phone ? NormalizeQueryPhone(std::move(v)) : std::move(v), false});
    }
    return DecodeMembers(members);
  }
  auto parsed = ParseJsonObject(req);
  if (!parsed.ok()) return parsed.error();
  const rapidjson::Document& doc = parsed.value();
  for (auto it = doc.MemberBegin(); it != doc.MemberEnd(); ++it) {
    Member m{std::string_view(it->name.GetString(), it->name.GetStringLength()), std::nullopt,
             it->value.IsNull()};
    // Only the fields that are read are copied out of the document.
    const bool read = std::find(std::begin(kStringFields), std::end(kStringFields), m.key) !=
                      std::end(kStringFields);
    if (it->value.IsString()) {
      m.text.emplace(read ? std::string(it->value.GetString(), it->value.GetStringLength()) : "");
    }
    members.push_back(std::move(m));
  }
  return DecodeMembers(members);
}

}  // namespace bluegate::api
