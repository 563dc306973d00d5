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

Status ValidateTagName(std::string_view tag) {
  const std::string shown(tag.substr(0, 128));
  if (tag.empty() || tag.size() > 128 || tag.front() == '.' ||
      tag.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") !=
          std::string_view::npos) {
    return InvalidArgument("a dist-tag is 1 to 128 letters, digits, '.', '_' or '-': '" + shown +
                           "'");
  }
  // npm reads a tag as a version when it starts with a digit or "v" and a digit ("1",
  // "1.0", "v2.1"): such a tag could never be installed by its name.
  const std::string_view rest = tag.front() == 'v' || tag.front() == 'V' ? tag.substr(1) : tag;
  if (!rest.empty() && rest.front() >= '0' && rest.front() <= '9') {
    return InvalidArgument("a dist-tag may not look like a version: '" + shown + "'");
  }
  return Status::Ok();
}

const index::Format& NpmFormat() {
  static const Npm npm;
  return npm;
}

}  // namespace pipy::npm
