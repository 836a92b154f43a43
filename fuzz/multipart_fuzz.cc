// libFuzzer target: a multipart/form-data upload as POST /api/upload-file reads it. The first line
// is the Content-Type (its boundary), the rest the body; every part found must lie in the body.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "api/multipart.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t nl = input.find('\n');
  const std::string_view type = input.substr(0, nl);
  const std::string_view body = nl == std::string_view::npos ? "" : input.substr(nl + 1);
  auto boundary = bluegate::api::MultipartBoundary(type);
  if (!boundary.ok()) return 0;
  auto parts = bluegate::api::ParseMultipart(body, boundary.value(), {4, 256});
  if (!parts.ok()) return 0;
  if (parts->size() > 4) std::abort();
  for (const auto& p : parts.value()) {
    if (p.data.data() < body.data() || p.data.data() + p.data.size() > body.data() + body.size()) {
      std::abort();
    }
  }
  return 0;
}
