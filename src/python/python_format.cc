#include "python/python_format.h"

#include "core/pep440_version.h"
#include "core/pep503.h"

namespace pipy::python {

namespace {

class Python final : public index::Format {
 public:
  std::string_view name() const override { return "python"; }

  Result<std::string> NormalizeName(std::string_view name) const override {
    if (!pep503::IsValidName(name)) {
      return InvalidArgument("invalid project name '" + std::string(name) + "'");
    }
    return pep503::NormalizeName(name);
  }

  Result<index::FormatVersion> ParseVersion(std::string_view version) const override {
    auto parsed = pep440::Version::Parse(version);
    if (!parsed) {
      return InvalidArgument("invalid version '" + std::string(version) + "'");
    }
    return index::FormatVersion{parsed->ToString(), parsed->Key()};
  }

  bool Newer(std::string_view a, std::string_view b) const override {
    auto va = pep440::Version::Parse(a);
    auto vb = pep440::Version::Parse(b);
    if (va && vb) {
      return *vb < *va;
    }
    return b < a;
  }
};

}  // namespace

const index::Format& PythonFormat() {
  static const Python python;
  return python;
}

}  // namespace pipy::python
