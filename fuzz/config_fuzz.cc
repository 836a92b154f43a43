// libFuzzer target: a TOML configuration file's text through the same reading `serve` does.
// Bad input must end in std::runtime_error (a message naming the key), never a crash.
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string_view>

#include "app/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    (void)bluegate::app::ParseConfigText(
        std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.toml");
  } catch (const std::runtime_error&) {
  }
  return 0;
}
