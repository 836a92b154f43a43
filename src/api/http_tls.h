// The server's TLS settings: TLS 1.2 and 1.3 only, forward-secret AEAD ciphers for TLS 1.2
// (ECDHE with AES-GCM or ChaCha20-Poly1305), no compression or renegotiation, and the
// certificate chain and key from PEM files.
#pragma once

#include <memory>
#include <string>

#include "core/result.h"

namespace boost::asio::ssl {
class context;
}  // namespace boost::asio::ssl

namespace bluegate::api {

// A server context for `cert_file` (the certificate, then any intermediates) and `key_file`.
// kInvalidArgument naming the file and what is wrong: unreadable, not PEM, or a key that does not
// match the certificate.
Result<std::shared_ptr<boost::asio::ssl::context>> MakeTlsContext(const std::string& cert_file,
                                                                  const std::string& key_file);

}  // namespace bluegate::api
