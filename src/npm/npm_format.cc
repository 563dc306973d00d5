#include "npm/npm_format.h"

#include "core/npm_name.h"
#include "core/semver.h"

namespace pipy::npm {
namespace {

class Npm final : public index::Format {
 public:
  std::string_view name() const override { return "npm"; }

  Result<std::string> NormalizeName(std::string_view name) const override {
    PIPY_RETURN_IF_ERROR(npm_name::Validate(name));
    return std::string(name);
  }

  Result<index::FormatVersion> ParseVersion(std::string_view version) const override {
    PIPY_ASSIGN_OR_RETURN(semver::Version parsed, semver::Version::Parse(version));
    std::string key = parsed.Key();
    return index::FormatVersion{key, key};
  }

  bool Newer(std::string_view a, std::string_view b) const override {
    auto va = semver::Version::Parse(a);
    auto vb = semver::Version::Parse(b);
    if (va && vb) {
      return *vb < *va;
    }
    return b < a;
  }
};

}  // namespace

const index::Format& NpmFormat() {
  static const Npm npm;
  return npm;
}

}  // namespace pipy::npm
