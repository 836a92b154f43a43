#include "core/ids.h"

#include <openssl/rand.h>

#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <vector>

namespace bluegate {
namespace {

constexpr char kHex[] = "0123456789abcdef";

void Fill(unsigned char* buf, size_t n) {
  if (RAND_bytes(buf, static_cast<int>(n)) != 1) throw std::runtime_error("RAND_bytes failed");
}

class OpenSslIds final : public IdGenerator {
 public:
  std::string NewUuid() override {
    unsigned char b[16];
    Fill(b, sizeof b);
    const uint64_t ms =
        static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                  std::chrono::system_clock::now().time_since_epoch())
                                  .count());
    for (int i = 0; i < 6; ++i) b[i] = static_cast<unsigned char>(ms >> (40 - 8 * i));
    b[6] = (b[6] & 0x0f) | 0x70;  // version 7
    b[8] = (b[8] & 0x3f) | 0x80;  // RFC 9562 variant
    std::string out;
    out.reserve(36);
    for (int i = 0; i < 16; ++i) {
      if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
      out.push_back(kHex[b[i] >> 4]);
      out.push_back(kHex[b[i] & 15]);
    }
    return out;
  }

  std::string RandomHex(size_t n) override {
    std::vector<unsigned char> b(n);
    Fill(b.data(), n);
    std::string out;
    for (unsigned char c : b) {
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
    return out;
  }
};

}  // namespace

IdGenerator& SecureIds() {
  static OpenSslIds ids;
  return ids;
}

}  // namespace bluegate
