// libFuzzer target: a send-message request body, as JSON or as a form, through decoding and
// validation. Neither may crash, hang or read out of bounds, whatever the bytes.
#include <cstddef>
#include <cstdint>
#include <string>

#include "api/request_decoding.h"
#include "core/send_request.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bluegate::PhoneNumbers phones({"+15555550123"});
  const std::string input(reinterpret_cast<const char*>(data), size);
  for (const char* type : {"application/json", "application/x-www-form-urlencoded"}) {
    bluegate::api::HttpRequest req;
    req.method = "POST";
    req.path = "/api/send-message";
    req.headers.emplace_back("content-type", type);
    req.body = input;
    auto decoded = bluegate::api::DecodeSendRequest(req);
    if (decoded.ok()) (void)bluegate::ValidateSend(decoded.value(), phones);
  }
  (void)bluegate::api::ParseQuery(input);
  return 0;
}
