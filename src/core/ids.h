// Identifiers and secrets. Injected so tests get predictable handles.
#pragma once

#include <string>

namespace bluegate {

class IdGenerator {
 public:
  virtual ~IdGenerator() = default;
  // A UUID in lowercase canonical form: version 7 (a millisecond timestamp, then random bits), so
  // that new handles land at the end of the store's index instead of all over it. Unique and
  // never reused. Thread-safe.
  virtual std::string NewUuid() = 0;
  // `n` random bytes as lowercase hex, for key ids and secrets. Thread-safe.
  virtual std::string RandomHex(size_t n) = 0;
};

// Backed by OpenSSL's CSPRNG.
IdGenerator& SecureIds();

}  // namespace bluegate
