// SHA-256 (FIPS 180-4) over OpenSSL's EVP interface: the content address of every blob and the
// digest PyPI clients check (PEP 503 "#sha256=" fragments, twine's sha256_digest field).
#pragma once

#include <memory>
#include <string>
#include <string_view>

struct evp_md_ctx_st;  // OpenSSL's EVP_MD_CTX

namespace pipy {

// A streaming SHA-256 hasher. Feed bytes with Update() in any number of pieces; HexDigest()
// returns the digest of everything fed so far and may be called at any time, repeatedly, and
// followed by more Update() calls. Movable, not copyable; not thread-safe.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(Sha256&&) noexcept;
  Sha256& operator=(Sha256&&) noexcept;
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  // Appends `data` to the hashed stream. Precondition: *this was not moved from.
  void Update(std::string_view data);

  // Returns the digest of the bytes fed so far as 64 lowercase hex characters.
  std::string HexDigest() const;

 private:
  struct CtxDeleter {
    void operator()(evp_md_ctx_st* ctx) const;
  };
  std::unique_ptr<evp_md_ctx_st, CtxDeleter> ctx_;
};

// Returns the SHA-256 of `data` as 64 lowercase hex characters.
std::string Sha256Hex(std::string_view data);

}  // namespace pipy
