#include "core/sha256.h"

#include <openssl/evp.h>

#include <cstdio>
#include <cstdlib>
#include <span>

#include "core/strings.h"

namespace pipy {
namespace {

// OpenSSL fails here only when out of memory or misbuilt; neither is recoverable per request.
void CheckOpenSsl(int rc, const char* what) {
  if (rc != 1) {
    std::fprintf(stderr, "pipy: OpenSSL %s failed\n", what);
    std::abort();
  }
}

}  // namespace

void Sha256::CtxDeleter::operator()(evp_md_ctx_st* ctx) const { EVP_MD_CTX_free(ctx); }

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
  CheckOpenSsl(ctx_ != nullptr ? 1 : 0, "EVP_MD_CTX_new");
  CheckOpenSsl(EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr), "EVP_DigestInit_ex");
}

Sha256::~Sha256() = default;
Sha256::Sha256(Sha256&&) noexcept = default;
Sha256& Sha256::operator=(Sha256&&) noexcept = default;

void Sha256::Update(std::string_view data) {
  if (data.empty()) {
    return;
  }
  CheckOpenSsl(EVP_DigestUpdate(ctx_.get(), data.data(), data.size()), "EVP_DigestUpdate");
}

std::string Sha256::HexDigest() const {
  // Finalize a copy so the running state stays usable for further Update() calls.
  std::unique_ptr<evp_md_ctx_st, CtxDeleter> copy(EVP_MD_CTX_new());
  CheckOpenSsl(copy != nullptr ? 1 : 0, "EVP_MD_CTX_new");
  CheckOpenSsl(EVP_MD_CTX_copy_ex(copy.get(), ctx_.get()), "EVP_MD_CTX_copy_ex");
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  CheckOpenSsl(EVP_DigestFinal_ex(copy.get(), digest, &len), "EVP_DigestFinal_ex");
  return HexEncode(std::span<const unsigned char>(digest, len));
}

std::string Sha256Hex(std::string_view data) {
  Sha256 hasher;
  hasher.Update(data);
  return hasher.HexDigest();
}

}  // namespace pipy
