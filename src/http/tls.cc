// The server's TLS context: certificate and key loading with errors that name the file,
// and the protocol settings (Mozilla's "intermediate" profile, version 5.7).
#include "http/tls.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

#include <fmt/format.h>

namespace pipy::http {

namespace ssl = boost::asio::ssl;

namespace {

// TLS 1.2 suites of Mozilla's "intermediate" profile (TLS 1.3 uses OpenSSL's defaults,
// which are the profile's three).
constexpr char kTls12Ciphers[] =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
    "DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305";
constexpr char kGroups[] = "X25519:prime256v1:secp384r1";

// OpenSSL's reason for the oldest queued error (e.g. "no start line"), then an empty queue.
// Reasons are fixed strings: they never carry the file's bytes.
std::string TakeOpenSslError() {
  unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) {
    return "unknown error";
  }
  const char* reason = ERR_reason_error_string(code);
  return reason != nullptr ? std::string(reason) : fmt::format("error {:#x}", code);
}

Status CheckReadable(const std::filesystem::path& path, std::string_view what) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) {
    return InvalidArgument(
        fmt::format("cannot read TLS {} {}: {}", what, path.string(), std::strerror(errno)));
  }
  char byte = 0;
  std::size_t got = std::fread(&byte, 1, 1, file);
  int error = std::ferror(file) ? errno : 0;
  std::fclose(file);
  if (error != 0) {
    return InvalidArgument(
        fmt::format("cannot read TLS {} {}: {}", what, path.string(), std::strerror(error)));
  }
  if (got == 0) {
    return InvalidArgument(fmt::format("TLS {} {} is empty", what, path.string()));
  }
  return Status::Ok();
}

// Encrypted keys are refused: OpenSSL would otherwise prompt on the terminal.
int NoPassword(char*, int, int, void*) { return 0; }

// ALPN: "http/1.1" when the client offers it; otherwise no protocol is selected (a
// client offering only h2 still gets HTTP/1.1, as without ALPN).
int SelectAlpn(SSL*, const unsigned char** out, unsigned char* out_length,
               const unsigned char* offered, unsigned int offered_length, void*) {
  static const unsigned char kHttp11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  unsigned char* selected = nullptr;
  if (SSL_select_next_proto(&selected, out_length, kHttp11, sizeof(kHttp11), offered,
                            offered_length) != OPENSSL_NPN_NEGOTIATED) {
    return SSL_TLSEXT_ERR_NOACK;
  }
  *out = selected;
  return SSL_TLSEXT_ERR_OK;
}

Status Configure(SSL_CTX* ctx) {
  if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
      SSL_CTX_set_cipher_list(ctx, kTls12Ciphers) != 1 ||
      SSL_CTX_set1_groups_list(ctx, kGroups) != 1 || SSL_CTX_set_dh_auto(ctx, 1) != 1) {
    return Internal("cannot configure TLS: " + TakeOpenSslError());
  }
  // No compression (CRIME), no renegotiation, no tickets; the client's cipher order
  // (every suite offered here is strong, so the client may pick the fastest for it).
  SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_TICKET);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
  SSL_CTX_set_timeout(ctx, 300);
  SSL_CTX_set_default_passwd_cb(ctx, NoPassword);
  SSL_CTX_set_alpn_select_cb(ctx, SelectAlpn, nullptr);
  return Status::Ok();
}

}  // namespace

Result<std::shared_ptr<ssl::context>> LoadTlsContext(const std::filesystem::path& cert,
                                                     const std::filesystem::path& key) {
  PIPY_RETURN_IF_ERROR(CheckReadable(cert, "certificate"));
  PIPY_RETURN_IF_ERROR(CheckReadable(key, "key"));
  std::shared_ptr<ssl::context> context;
  try {
    context = std::make_shared<ssl::context>(ssl::context::tls_server);
  } catch (const std::exception& e) {
    return Internal(fmt::format("cannot create a TLS context: {}", e.what()));
  }
  SSL_CTX* ctx = context->native_handle();
  ERR_clear_error();
  PIPY_RETURN_IF_ERROR(Configure(ctx));
  if (SSL_CTX_use_certificate_chain_file(ctx, cert.c_str()) != 1) {
    return InvalidArgument(fmt::format("TLS certificate {} is not a PEM certificate chain: {}",
                                       cert.string(), TakeOpenSslError()));
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, key.c_str(), SSL_FILETYPE_PEM) != 1) {
    return InvalidArgument(fmt::format("TLS key {} is not an unencrypted PEM private key: {}",
                                       key.string(), TakeOpenSslError()));
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    ERR_clear_error();
    return InvalidArgument(fmt::format("TLS key {} does not belong to the certificate {}",
                                       key.string(), cert.string()));
  }
  ERR_clear_error();
  return context;
}

}  // namespace pipy::http
