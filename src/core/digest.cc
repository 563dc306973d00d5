#include "core/digest.h"

#include <openssl/evp.h>

#include <cstdio>
#include <cstdlib>
#include <span>

#include "core/base64.h"
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

void Digest::CtxDeleter::operator()(evp_md_ctx_st* ctx) const { EVP_MD_CTX_free(ctx); }

Digest::Digest(Algorithm algorithm) : ctx_(EVP_MD_CTX_new()) {
  CheckOpenSsl(ctx_ != nullptr ? 1 : 0, "EVP_MD_CTX_new");
  const EVP_MD* md = algorithm == Algorithm::kSha1 ? EVP_sha1() : EVP_sha512();
  CheckOpenSsl(EVP_DigestInit_ex(ctx_.get(), md, nullptr), "EVP_DigestInit_ex");
}

Digest::~Digest() = default;
Digest::Digest(Digest&&) noexcept = default;
Digest& Digest::operator=(Digest&&) noexcept = default;

void Digest::Update(std::string_view data) {
  if (data.empty()) {
    return;
  }
  CheckOpenSsl(EVP_DigestUpdate(ctx_.get(), data.data(), data.size()), "EVP_DigestUpdate");
}

std::string Digest::Raw() const {
  // Finalize a copy so the running state stays usable for further Update() calls.
  std::unique_ptr<evp_md_ctx_st, CtxDeleter> copy(EVP_MD_CTX_new());
  CheckOpenSsl(copy != nullptr ? 1 : 0, "EVP_MD_CTX_new");
  CheckOpenSsl(EVP_MD_CTX_copy_ex(copy.get(), ctx_.get()), "EVP_MD_CTX_copy_ex");
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  CheckOpenSsl(EVP_DigestFinal_ex(copy.get(), digest, &len), "EVP_DigestFinal_ex");
  return std::string(reinterpret_cast<const char*>(digest), len);
}

std::string Digest::Hex() const {
  const std::string raw = Raw();
  return HexEncode(std::span<const unsigned char>(
      reinterpret_cast<const unsigned char*>(raw.data()), raw.size()));
}

std::string Sha512Integrity(std::string_view raw_sha512) {
  return "sha512-" + Base64Encode(raw_sha512);
}

}  // namespace pipy
