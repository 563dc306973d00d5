// PEP 440 version specifiers ("~=3.9", ">=3.8,<4", "==3.*", "!=3.10.*", "===foo"): used to
// validate a Requires-Python value at upload and to evaluate it against interpreter versions.
// https://peps.python.org/pep-0440/#version-specifiers ; behaviour matches Python's
// `packaging` 23.0 SpecifierSet.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "core/pep440_version.h"

namespace pipy::pep440 {

// One clause: an operator and the version (or arbitrary string, for ===) it applies to.
class Specifier {
 public:
  enum class Op {
    kCompatible,
    kEqual,
    kNotEqual,
    kLessEqual,
    kGreaterEqual,
    kLess,
    kGreater,
    kArbitrary
  };

  // Parses one clause such as ">= 3.8" or "==1.2.*". Whitespace around the operator and
  // version is allowed. Rules (PEP 440): ~= needs at least two release numbers and no local
  // label; a trailing ".*" is allowed only with == and != and only right after the release;
  // a local label only with ==, != and ===. Anything else gives kInvalidArgument.
  static Result<Specifier> Parse(std::string_view text);

  // True when `version` satisfies the clause. Pre-releases are judged by the operator alone
  // (filtering them out is the caller's choice; see SpecifierSet::Contains).
  bool Contains(const Version& version) const;

  // True when the clause itself names a pre-release (e.g. ">=1.0rc1"), which, by PEP 440,
  // opts the clause in to matching pre-releases.
  bool NamesPrerelease() const;

  Op op() const { return op_; }
  // Normalized spelling, e.g. ">=3.8", "==3.10.*", "===foo".
  std::string ToString() const;

 private:
  Op op_ = Op::kEqual;
  Version version_;
  bool wildcard_ = false;
  std::string arbitrary_;  // the operand of === as written
};

// A comma-separated conjunction of clauses. The empty set matches every version.
class SpecifierSet {
 public:
  // Parses e.g. ">=3.8, <4". Empty items (",,", trailing commas, all-whitespace text) are
  // ignored, as `packaging` does. Returns kInvalidArgument naming the bad clause.
  static Result<SpecifierSet> Parse(std::string_view text);

  // True when `version` satisfies every clause. With prereleases=true pre-releases are
  // matched like any version. With prereleases=false they are excluded unless some clause
  // names a pre-release itself (PEP 440's default for resolvers; packaging's prereleases=None).
  bool Contains(const Version& version, bool prereleases = true) const;

  bool empty() const { return specs_.empty(); }
  const std::vector<Specifier>& specifiers() const { return specs_; }
  // Clauses in normalized spelling, sorted and joined with ",", as `packaging` prints them.
  std::string ToString() const;

 private:
  std::vector<Specifier> specs_;
};

}  // namespace pipy::pep440
