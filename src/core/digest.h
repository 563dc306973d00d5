// Streaming SHA-1 and SHA-512 over OpenSSL's EVP interface, for the digests npm clients
// check: `dist.shasum` (SHA-1 hex) and `dist.integrity` (Subresource Integrity,
// "sha512-" + base64 of the raw SHA-512). SHA-256, the blob address, has its own class
// (sha256.h).
#pragma once

#include <memory>
#include <string>
#include <string_view>

struct evp_md_ctx_st;  // OpenSSL's EVP_MD_CTX

namespace pipy {

class Digest {
 public:
  enum class Algorithm { kSha1, kSha512 };

  explicit Digest(Algorithm algorithm);
  ~Digest();
  Digest(Digest&&) noexcept;
  Digest& operator=(Digest&&) noexcept;
  Digest(const Digest&) = delete;
  Digest& operator=(const Digest&) = delete;

  // Appends `data` to the hashed stream. Precondition: *this was not moved from.
  void Update(std::string_view data);
  // The digest of the bytes fed so far (raw bytes, or lowercase hex); more Update() calls
  // may follow.
  std::string Raw() const;
  std::string Hex() const;

 private:
  struct CtxDeleter {
    void operator()(evp_md_ctx_st* ctx) const;
  };
  std::unique_ptr<evp_md_ctx_st, CtxDeleter> ctx_;
};

// "sha512-<base64>" of `raw_sha512` (W3C Subresource Integrity, as npm writes it).
std::string Sha512Integrity(std::string_view raw_sha512);

}  // namespace pipy
