#include "api/http_tls.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <utility>  // before Asio: Boost 1.74 with GCC 12 coroutines

#include <boost/asio/ssl/context.hpp>

namespace bluegate::api {
namespace {

// OpenSSL's reason for the last failure, for an operator.
std::string OpenSslReason() {
  const unsigned long e = ERR_peek_last_error();
  ERR_clear_error();
  if (e == 0) return "unknown error";
  const char* reason = ERR_reason_error_string(e);
  return reason ? reason : "error " + std::to_string(e);
}

Error Bad(const std::string& what) {
  return Error::Invalid(what + " ([tls] cert_file and key_file take PEM files)");
}

}  // namespace

Result<std::shared_ptr<boost::asio::ssl::context>> MakeTlsContext(const std::string& cert_file,
                                                                  const std::string& key_file) {
  namespace ssl = boost::asio::ssl;
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  SSL_CTX* native = ctx->native_handle();
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  SSL_CTX_set_options(native, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                                  SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_SINGLE_ECDH_USE);
  // TLS 1.3's suites are all AEAD and forward-secret; OpenSSL's defaults stand for it.
  if (SSL_CTX_set_cipher_list(native, "ECDHE+AESGCM:ECDHE+CHACHA20:!aNULL:!SHA1") != 1) {
    return Error::Internal("the TLS cipher list was refused: " + OpenSslReason());
  }
  ERR_clear_error();
  if (SSL_CTX_use_certificate_chain_file(native, cert_file.c_str()) != 1) {
    return Bad("cannot use the certificate " + cert_file + ": " + OpenSslReason());
  }
  if (SSL_CTX_use_PrivateKey_file(native, key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    return Bad("cannot use the private key " + key_file + ": " + OpenSslReason());
  }
  if (SSL_CTX_check_private_key(native) != 1) {
    return Bad("the private key " + key_file + " does not match the certificate " + cert_file);
  }
  return ctx;
}

}  // namespace bluegate::api
