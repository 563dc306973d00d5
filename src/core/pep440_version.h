// PEP 440 versions: parsing of every permitted spelling, the normalized form, and the total
// order used to pick "latest" and to evaluate specifiers (see specifier.h).
// https://peps.python.org/pep-0440/ and the PyPA "version specifiers" specification; behaviour
// matches Python's `packaging` 23.0, the reference implementation.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace pipy::pep440 {

class Version {
 public:
  // Pre-release phases in PEP 440 order: a < b < rc.
  enum class PreKind { kAlpha = 0, kBeta = 1, kRc = 2 };
  struct Pre {
    PreKind kind;
    std::uint64_t number;
    friend bool operator==(const Pre&, const Pre&) = default;
  };

  // The version "0". Exists so that structs holding a Version are default-constructible.
  Version();

  // Parses any spelling PEP 440 permits (its "Appendix B" regex, case-insensitive):
  //   [v][N!]N(.N)*[{a|b|c|rc|alpha|beta|pre|preview}[N]][{-N|post|rev|r}[N]][dev[N]][+local]
  // with optional '-', '_' or '.' separators around the pre/post/dev labels, implicit 0 for a
  // missing number, and leading/trailing ASCII whitespace ignored. Local segments are
  // [a-z0-9]+ separated by '-', '_' or '.'. Returns kInvalidArgument for anything else,
  // including the empty string and numbers that do not fit in 64 bits.
  static Result<Version> Parse(std::string_view text);

  // The normalized form, e.g. "1!2.0rc1.post2.dev3+ubuntu.1"; Parse(ToString()) == *this and
  // ToString() is stable under re-parsing.
  std::string ToString() const;
  // ToString() without the "+local" part.
  std::string Public() const;
  // One string for every version equal to this one ("1", "1.0" and "1.0.0" give "1"):
  // ToString() with the release's trailing zeros dropped. The catalog identifies a
  // release by it.
  std::string Key() const;

  std::uint64_t epoch() const { return epoch_; }
  // The release numbers as written (trailing zeros kept: "1.0" has {1, 0}). Never empty.
  const std::vector<std::uint64_t>& release() const { return release_; }
  const std::optional<Pre>& pre() const { return pre_; }
  const std::optional<std::uint64_t>& post() const { return post_; }
  const std::optional<std::uint64_t>& dev() const { return dev_; }
  // The normalized local label ("ubuntu.1"), or "" when there is none.
  std::string local() const;

  // True for pre-releases and developmental releases (as `packaging` defines it).
  bool is_prerelease() const { return pre_.has_value() || dev_.has_value(); }
  bool is_devrelease() const { return dev_.has_value(); }
  bool is_postrelease() const { return post_.has_value(); }
  bool has_local() const { return !local_.empty(); }

  // This version without its local label.
  Version WithoutLocal() const;
  // Only the epoch and release ("base version": 1!2.0rc1+x -> 1!2.0).
  Version BaseVersion() const;

  // PEP 440 ordering: by epoch, then release (trailing zeros ignored), then
  // .devN < aN < bN < rcN < (final) < .postN, with dev releases of a pre/post release sorting
  // just before it; a local version sorts after the same public version, local segments
  // comparing numerically when both are numbers, alphabetically when both are not, and a
  // number sorting after a string. Equality is the same relation: "1.0" == "1.0.0".
  friend std::strong_ordering operator<=>(const Version& a, const Version& b);
  friend bool operator==(const Version& a, const Version& b) {
    return (a <=> b) == std::strong_ordering::equal;
  }

 private:
  struct LocalSegment {
    bool numeric;
    std::string text;  // lowercase; numbers without leading zeros
  };
  friend class VersionParser;

  std::uint64_t epoch_ = 0;
  std::vector<std::uint64_t> release_;
  std::optional<Pre> pre_;
  std::optional<std::uint64_t> post_;
  std::optional<std::uint64_t> dev_;
  std::vector<LocalSegment> local_;
};

}  // namespace pipy::pep440
