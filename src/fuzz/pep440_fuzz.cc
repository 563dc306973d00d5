// PEP 440 versions and specifiers on every line of the input (at most 16 lines):
//   - Version::Parse: an accepted version's ToString() parses back to an equal version with
//     the same ToString() (normalization is idempotent), Key() and Public() parse too, Key()
//     is equal as a version, and Key() is the same for every version equal to it; the order
//     is a strong total order over the lines' versions (the first 8) (antisymmetric, transitive, == exactly
//     when the keys match);
//   - SpecifierSet::Parse: an accepted set's ToString() parses back to the same ToString(),
//     and both sets agree on Contains() for every version of the input, with and without
//     pre-releases; the empty set contains everything.
#include <compare>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/pep440_specifier.h"
#include "core/pep440_version.h"
#include "fuzz/fuzz_check.h"
#include "fuzz/fuzz_input.h"

namespace {

using pipy::fuzz::Check;
using pipy::pep440::SpecifierSet;
using pipy::pep440::Version;

constexpr std::size_t kMaxLines = 16;
constexpr std::size_t kMaxPairs = 8;  // versions taken into the pairwise order checks

void CheckVersion(const Version& v) {
  const std::string text = v.ToString();
  auto again = Version::Parse(text);
  Check(again.has_value(), "ToString() parses");
  Check(*again == v, "ToString() parses to an equal version");
  Check(again->ToString() == text, "ToString() is stable under re-parsing");
  auto key = Version::Parse(v.Key());
  Check(key.has_value() && *key == v, "Key() parses to an equal version");
  Check(key->Key() == v.Key(), "Key() is its own key");
  auto pub = Version::Parse(v.Public());
  Check(pub.has_value() && !pub->has_local(), "Public() parses, without a local label");
  Check(pub->ToString() == v.Public(), "Public() is normalized");
  Check(v.WithoutLocal() <= v, "a local label sorts after the public version");
  Check(v.BaseVersion().ToString() == v.BaseVersion().Public(), "no local in the base");
  Check(!v.release().empty(), "the release is never empty");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::vector<Version> versions;
  std::vector<SpecifierSet> sets;
  for (std::string_view line : pipy::fuzz::Lines(pipy::fuzz::AsText(data, size), kMaxLines)) {
    if (auto v = Version::Parse(line)) {
      CheckVersion(*v);
      if (versions.size() < kMaxPairs) {
        versions.push_back(std::move(*v));
      }
    }
    if (auto s = SpecifierSet::Parse(line)) {
      const std::string text = s->ToString();
      auto again = SpecifierSet::Parse(text);
      Check(again.has_value(), "SpecifierSet::ToString() parses");
      Check(again->ToString() == text, "SpecifierSet::ToString() is stable");
      Check(again->empty() == s->empty(), "re-parsing keeps emptiness");
      sets.push_back(std::move(*s));
      sets.push_back(std::move(*again));
    }
  }
  for (const Version& a : versions) {
    for (const Version& b : versions) {
      auto ab = a <=> b;
      auto ba = b <=> a;
      Check((ab == 0) == (ba == 0) && (ab < 0) == (ba > 0), "the order is antisymmetric");
      Check((ab == 0) == (a.Key() == b.Key()), "equal exactly when the keys match");
      for (const Version& c : versions) {
        if (a <= b && b <= c) {
          Check(a <= c, "the order is transitive");
        }
      }
    }
  }
  for (std::size_t i = 0; i + 1 < sets.size(); i += 2) {
    for (const Version& v : versions) {
      for (bool pre : {true, false}) {
        Check(sets[i].Contains(v, pre) == sets[i + 1].Contains(v, pre),
              "a set and its re-parsed ToString() agree on Contains()");
      }
      if (sets[i].empty()) {
        Check(sets[i].Contains(v, true), "the empty set contains everything");
      }
    }
  }
  return 0;
}
