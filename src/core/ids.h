// Identifiers and secrets. Injected so tests get predictable handles.
#pragma once

#include <string>

namespace bluegate {

class IdGenerator {
 public:
  virtual ~IdGenerator() = default;
  // A random (version 4) UUID in lowercase canonical form. Thread-safe.
  virtual std::string NewUuid() = 0;
  // `n` random bytes as lowercase hex, for key ids and secrets. Thread-safe.
  virtual std::string RandomHex(size_t n) = 0;
};

// Backed by OpenSSL's CSPRNG.
IdGenerator& SecureIds();

}  // namespace bluegate
