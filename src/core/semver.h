// SemVer 2.0.0 versions, the version scheme of the npm format: strict parsing, the canonical
// spelling, the release identity npm uses, and the precedence order used to pick "latest".
// https://semver.org/spec/v2.0.0.html; the identity and the limits follow node-semver, the
// reference implementation npm clients use.
#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace pipy::semver {

// node-semver's MAX_LENGTH: longer strings are refused before parsing.
inline constexpr std::size_t kMaxVersionLength = 256;

class Version {
 public:
  // The version "0.0.0". Exists so that structs holding a Version are default-constructible.
  Version() = default;

  // Parses exactly the grammar of SemVer 2.0.0 (its suggested regex):
  //   MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD]
  // MAJOR, MINOR and PATCH are decimal numbers without leading zeros, at most 2^53 - 1
  // (JavaScript's Number.MAX_SAFE_INTEGER, beyond which node-semver refuses them).
  // PRERELEASE and BUILD are non-empty dot-separated identifiers of [0-9A-Za-z-]; a numeric
  // prerelease identifier has no leading zeros (build identifiers may have them). Nothing else
  // is accepted: no leading "v" or "=", no surrounding whitespace, no "1.2" shorthand, nothing
  // longer than kMaxVersionLength. The registry stores versions as it accepts them, and npm
  // sends versions already cleaned, so leniency would only admit two spellings of one release.
  // Returns kInvalidArgument with a message naming the broken rule.
  static Result<Version> Parse(std::string_view text);

  std::uint64_t major() const { return major_; }
  std::uint64_t minor() const { return minor_; }
  std::uint64_t patch() const { return patch_; }
  // The prerelease identifiers as written ("rc.1" gives {"rc", "1"}); empty for a release.
  const std::vector<std::string>& prerelease() const { return prerelease_; }
  // The build metadata identifiers as written ("+build.007" gives {"build", "007"}); empty
  // when there is none.
  const std::vector<std::string>& build() const { return build_; }

  // True when the version has prerelease identifiers ("1.0.0-rc.1").
  bool IsPrerelease() const { return !prerelease_.empty(); }

  // The canonical spelling, build metadata included: "1.0.0-rc.1+build.5". Because parsing
  // is strict this is exactly the text that was parsed.
  std::string ToString() const;
  // The identity of the release: ToString() without "+BUILD" ("1.0.0-rc.1"). npm ignores
  // build metadata (node-semver's `version` property and semver.clean drop it), so
  // "1.0.0+a" and "1.0.0+b" are one version to every client; the catalog identifies a
  // release by this key. Key() of a and b are equal exactly when a == b.
  std::string Key() const;

  // SemVer precedence (section 11): MAJOR, MINOR, PATCH numerically; then a prerelease sorts
  // before the release; prerelease identifiers compare left to right, numeric ones
  // numerically, alphanumeric ones in ASCII order, a numeric one before an alphanumeric
  // one, and when all shared identifiers are equal the longer list sorts later. Build
  // metadata is ignored, so the order is weak: "1.0.0+a" == "1.0.0+b" although their
  // ToString() differ (compare ToString() to test for identical spelling).
  friend std::weak_ordering operator<=>(const Version& a, const Version& b);
  friend bool operator==(const Version& a, const Version& b) {
    return (a <=> b) == std::weak_ordering::equivalent;
  }

 private:
  friend class VersionParser;

  std::uint64_t major_ = 0;
  std::uint64_t minor_ = 0;
  std::uint64_t patch_ = 0;
  std::vector<std::string> prerelease_;
  std::vector<std::string> build_;
};

}  // namespace pipy::semver
