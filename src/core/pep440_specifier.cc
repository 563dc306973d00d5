#include "core/pep440_specifier.h"

#include <algorithm>
#include <array>
#include <utility>

#include "core/strings.h"

namespace pipy::pep440 {
namespace {

struct OpSpelling {
  std::string_view text;
  Specifier::Op op;
};

// Longest spellings first so "===" is not read as "==" + "=".
constexpr std::array<OpSpelling, 8> kOps = {{
    {"===", Specifier::Op::kArbitrary},
    {"~=", Specifier::Op::kCompatible},
    {"==", Specifier::Op::kEqual},
    {"!=", Specifier::Op::kNotEqual},
    {"<=", Specifier::Op::kLessEqual},
    {">=", Specifier::Op::kGreaterEqual},
    {"<", Specifier::Op::kLess},
    {">", Specifier::Op::kGreater},
}};

std::string_view OpText(Specifier::Op op) {
  for (const OpSpelling& s : kOps) {
    if (s.op == op) {
      return s.text;
    }
  }
  return "?";
}

// PEP 440 prefix matching ("==1.2.*"): same epoch as `spec`, and the candidate's release,
// padded with zeros, starts with the first `n` release numbers of `spec`. Pre, post, dev and
// local parts of the candidate are ignored.
bool MatchesPrefix(const Version& candidate, const Version& spec, size_t n) {
  if (candidate.epoch() != spec.epoch()) {
    return false;
  }
  const auto& have = candidate.release();
  for (size_t i = 0; i < n; ++i) {
    const std::uint64_t got = i < have.size() ? have[i] : 0;
    if (got != spec.release()[i]) {
      return false;
    }
  }
  return true;
}

Status BadClause(std::string_view text, std::string_view why) {
  return InvalidArgument("invalid version specifier '" + std::string(text) +
                         "': " + std::string(why));
}

}  // namespace

Result<Specifier> Specifier::Parse(std::string_view text) {
  std::string_view s = TrimAsciiWhitespace(text);
  Specifier spec;
  bool found = false;
  for (const OpSpelling& o : kOps) {
    if (s.substr(0, o.text.size()) == o.text) {
      spec.op_ = o.op;
      s.remove_prefix(o.text.size());
      found = true;
      break;
    }
  }
  if (!found) {
    return BadClause(text, "expected an operator (~=, ==, !=, <=, >=, <, >, ===)");
  }
  s = TrimAsciiWhitespace(s);
  if (s.empty()) {
    return BadClause(text, "missing version");
  }
  for (char c : s) {
    if (IsAsciiWhitespace(c)) {
      return BadClause(text, "whitespace inside the version");
    }
  }
  if (spec.op_ == Op::kArbitrary) {
    if (s.find_first_of(";)") != std::string_view::npos) {
      return BadClause(text, "';' and ')' are not allowed after ===");
    }
    spec.arbitrary_ = std::string(s);
    return spec;
  }
  if (s.size() >= 2 && s.substr(s.size() - 2) == ".*") {
    if (spec.op_ != Op::kEqual && spec.op_ != Op::kNotEqual) {
      return BadClause(text, "a '.*' wildcard is only allowed with == and !=");
    }
    spec.wildcard_ = true;
    s.remove_suffix(2);
  }
  auto version = Version::Parse(s);
  if (!version.has_value()) {
    return BadClause(text, version.error().message());
  }
  spec.version_ = *std::move(version);
  const Version& v = spec.version_;
  if (spec.wildcard_ && (v.pre() || v.post() || v.dev() || v.has_local())) {
    return BadClause(text, "a '.*' wildcard must follow the release numbers directly");
  }
  if (v.has_local() && spec.op_ != Op::kEqual && spec.op_ != Op::kNotEqual) {
    return BadClause(text, "a local version label is only allowed with == and !=");
  }
  if (spec.op_ == Op::kCompatible && v.release().size() < 2) {
    return BadClause(text, "~= needs at least two release numbers (e.g. ~=3.9)");
  }
  return spec;
}

bool Specifier::Contains(const Version& candidate) const {
  switch (op_) {
    case Op::kCompatible:
      // ~=V.N means >=V.N and ==V.* (PEP 440 "Compatible release"); Parse() guarantees at
      // least two release numbers.
      return candidate.WithoutLocal() >= version_ &&
             MatchesPrefix(candidate, version_, version_.release().size() - 1);
    case Op::kEqual:
    case Op::kNotEqual: {
      bool equal = false;
      if (wildcard_) {
        equal = MatchesPrefix(candidate, version_, version_.release().size());
      } else if (version_.has_local()) {
        equal = candidate == version_;
      } else {
        equal = candidate.WithoutLocal() == version_;
      }
      return op_ == Op::kEqual ? equal : !equal;
    }
    case Op::kLessEqual:
      return candidate.WithoutLocal() <= version_;
    case Op::kGreaterEqual:
      return candidate.WithoutLocal() >= version_;
    case Op::kLess:
      // "<V" excludes pre-releases of V itself unless V is a pre-release.
      if (!(candidate < version_)) {
        return false;
      }
      return version_.is_prerelease() || !candidate.is_prerelease() ||
             candidate.BaseVersion() != version_.BaseVersion();
    case Op::kGreater:
      // ">V" excludes post-releases of V unless V is one, and local versions of V.
      if (!(candidate > version_)) {
        return false;
      }
      if (!version_.is_postrelease() && candidate.is_postrelease() &&
          candidate.BaseVersion() == version_.BaseVersion()) {
        return false;
      }
      return !(candidate.has_local() && candidate.BaseVersion() == version_.BaseVersion());
    case Op::kArbitrary:
      return EqualsIgnoreCase(candidate.ToString(), arbitrary_);
  }
  return false;
}

bool Specifier::NamesPrerelease() const {
  switch (op_) {
    case Op::kCompatible:
    case Op::kEqual:
    case Op::kLessEqual:
    case Op::kGreaterEqual:
      return version_.is_prerelease();
    case Op::kArbitrary: {
      auto v = Version::Parse(arbitrary_);
      return v.has_value() && v->is_prerelease();
    }
    default:
      return false;
  }
}

std::string Specifier::ToString() const {
  std::string out(OpText(op_));
  if (op_ == Op::kArbitrary) {
    return out + arbitrary_;
  }
  out += version_.ToString();
  if (wildcard_) {
    out += ".*";
  }
  return out;
}

Result<SpecifierSet> SpecifierSet::Parse(std::string_view text) {
  SpecifierSet set;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string_view::npos) {
      comma = text.size();
    }
    std::string_view item = TrimAsciiWhitespace(text.substr(start, comma - start));
    if (!item.empty()) {
      PIPY_ASSIGN_OR_RETURN(Specifier spec, Specifier::Parse(item));
      set.specs_.push_back(std::move(spec));
    }
    start = comma + 1;
  }
  return set;
}

bool SpecifierSet::Contains(const Version& version, bool prereleases) const {
  const bool allow_pre =
      prereleases || std::any_of(specs_.begin(), specs_.end(),
                                 [](const Specifier& s) { return s.NamesPrerelease(); });
  if (!allow_pre && version.is_prerelease()) {
    return false;
  }
  return std::all_of(specs_.begin(), specs_.end(),
                     [&](const Specifier& s) { return s.Contains(version); });
}

std::string SpecifierSet::ToString() const {
  std::vector<std::string> parts;
  for (const Specifier& s : specs_) {
    parts.push_back(s.ToString());
  }
  std::sort(parts.begin(), parts.end());
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    out += (i > 0 ? "," : "") + parts[i];
  }
  return out;
}

}  // namespace pipy::pep440
