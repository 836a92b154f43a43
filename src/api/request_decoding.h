// Turning request bodies and query strings into values. Every failure names the field.
#pragma once

#include <rapidjson/document.h>

#include <map>
#include <optional>
#include <string>

#include "api/http_types.h"
#include "core/result.h"
#include "core/send_request.h"

namespace bluegate::api {

// A JSON object body; malformed JSON is refused with where it went wrong.
Result<rapidjson::Document> ParseJsonObject(const HttpRequest& req);

// A string member of a JSON object: nullopt when absent or null, an error naming it when it is
// not a string.
Result<std::optional<std::string>> StringMember(const rapidjson::Value& obj, const char* name);

// The send-message body, JSON or application/x-www-form-urlencoded (SPEC.md §1).
Result<SendRequest> DecodeSendRequest(const HttpRequest& req);

// key → value, percent-decoded with '+' as space. A phone parameter whose '+' arrived as a space
// is restored by NormalizeQueryPhone.
std::map<std::string, std::string> ParseQuery(std::string_view query);
std::string NormalizeQueryPhone(std::string value);

// A whole-number query parameter within [min, max]; `def` when absent or empty.
Result<int> IntQueryParam(const std::map<std::string, std::string>& q, const char* name, int def,
                          int min, int max);

}  // namespace bluegate::api
