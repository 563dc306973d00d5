// TLS for the server (Asio's ssl::context over OpenSSL 3; no Beast): a server context from
// a PEM certificate chain and a PEM private key, with TLS 1.2 as the minimum, Mozilla's
// "intermediate" cipher list, ALPN "http/1.1" and no session tickets (whose key would
// never rotate; sessions resume from the context's own cache instead). Internal to http/:
// Server loads one at Start() and a new one on ReloadTls(); each connection holds the one
// it was accepted with.
#pragma once

#include <filesystem>
#include <memory>

#include <boost/asio/ssl/context.hpp>

#include "core/status.h"

namespace pipy::http {

// Loads `cert` (PEM: the server certificate first, then the chain up to, not including,
// the root) and `key` (PEM, not encrypted) into a new server context. The error names the
// file at fault and never quotes its content: unreadable, not a PEM certificate chain,
// not a usable private key (an encrypted key is refused rather than prompted for), or a
// key that does not belong to the certificate.
Result<std::shared_ptr<boost::asio::ssl::context>> LoadTlsContext(
    const std::filesystem::path& cert, const std::filesystem::path& key);

}  // namespace pipy::http
