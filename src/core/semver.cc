#include "core/semver.h"

#include <algorithm>
#include <array>
#include <limits>
#include <utility>

#include "core/strings.h"

namespace pipy::semver {
namespace {

constexpr std::uint64_t kMaxNumber = 9007199254740991;  // 2^53 - 1

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

bool IsIdentifierChar(char c) {
  return IsDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-';
}

bool IsAllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), IsDigit);
}

// The offending byte, readable in a message even when it is a control or non-ASCII byte.
std::string DescribeByte(char c) {
  if (c > ' ' && c < 0x7f) {
    return std::string("'") + c + "'";
  }
  std::string out = "byte 0x";
  AppendHexByte(out, static_cast<unsigned char>(c));
  return out;
}

// Compares digit strings without leading zeros by value, so numeric prerelease identifiers
// of any length compare exactly (SemVer sets no size limit on them).
std::strong_ordering CompareDigits(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return a.size() <=> b.size();
  }
  return a.compare(b) <=> 0;
}

// Section 11.4.1-11.4.3: numeric identifiers by value, alphanumeric ones in ASCII order,
// and numeric ones always before alphanumeric ones.
std::strong_ordering CompareIdentifiers(std::string_view a, std::string_view b) {
  const bool a_numeric = IsAllDigits(a);
  const bool b_numeric = IsAllDigits(b);
  if (a_numeric && b_numeric) {
    return CompareDigits(a, b);
  }
  if (a_numeric != b_numeric) {
    return a_numeric ? std::strong_ordering::less : std::strong_ordering::greater;
  }
  return a.compare(b) <=> 0;
}

void AppendIdentifiers(std::string& out, char lead, const std::vector<std::string>& ids) {
  for (size_t i = 0; i < ids.size(); ++i) {
    out.push_back(i == 0 ? lead : '.');
    out += ids[i];
  }
}

}  // namespace

// Splits the text at the first '+' (build metadata) and then at the first '-' before it
// (prerelease). The core contains neither character and a prerelease may contain '-' but
// not '+', so this is the only split the grammar allows; the parts are then checked apart.
class VersionParser {
 public:
  explicit VersionParser(std::string_view text) : text_(text) {}

  Result<Version> Run() {
    PIPY_RETURN_IF_ERROR(CheckShape());
    std::string_view rest = text_;
    std::string_view build;
    const size_t plus = rest.find('+');
    const bool has_build = plus != std::string_view::npos;
    if (has_build) {
      build = rest.substr(plus + 1);
      rest = rest.substr(0, plus);
    }
    std::string_view prerelease;
    const size_t dash = rest.find('-');
    const bool has_prerelease = dash != std::string_view::npos;
    if (has_prerelease) {
      prerelease = rest.substr(dash + 1);
      rest = rest.substr(0, dash);
    }
    PIPY_RETURN_IF_ERROR(ParseCore(rest));
    if (has_prerelease) {
      PIPY_RETURN_IF_ERROR(ParseIdentifiers(prerelease, /*is_build=*/false));
    }
    if (has_build) {
      PIPY_RETURN_IF_ERROR(ParseIdentifiers(build, /*is_build=*/true));
    }
    return std::move(v_);
  }

 private:
  Status Error(const std::string& why) const {
    // A refused string may be long; the message only needs enough of it to recognize it.
    constexpr size_t kShown = 64;
    std::string shown(text_.substr(0, kShown));
    if (text_.size() > kShown) {
      shown += "...";
    }
    return InvalidArgument("invalid version '" + shown + "': " + why +
                           " (SemVer 2.0.0, e.g. 1.2.3, 1.0.0-rc.1, 2.0.0+build.5)");
  }

  // The refusals that concern the string as a whole, checked first so that their message
  // names the real problem rather than a consequence of it.
  Status CheckShape() const {
    if (text_.empty()) {
      return Error("empty version");
    }
    if (text_.size() > kMaxVersionLength) {
      return Error("longer than " + std::to_string(kMaxVersionLength) + " characters");
    }
    if (IsAsciiWhitespace(text_.front()) || IsAsciiWhitespace(text_.back())) {
      return Error("leading or trailing whitespace");
    }
    const char first = text_.front();
    if (first == 'v' || first == 'V' || first == '=') {
      std::string why = std::string("a leading '") + first + "' is not part of the version";
      const std::string_view rest = text_.substr(1);
      if (Version::Parse(rest).has_value()) {
        why += "; send '" + std::string(rest) + "'";
      }
      return Error(why);
    }
    return Status::Ok();
  }

  Status ParseCore(std::string_view core) {
    const std::vector<std::string_view> parts = SplitAscii(core, '.');
    if (parts.size() != 3) {
      return Error("expected three dot-separated numbers MAJOR.MINOR.PATCH before any '-' or '+'");
    }
    static constexpr std::array<const char*, 3> kNames = {"MAJOR", "MINOR", "PATCH"};
    std::array<std::uint64_t*, 3> outs = {&v_.major_, &v_.minor_, &v_.patch_};
    for (size_t i = 0; i < parts.size(); ++i) {
      PIPY_RETURN_IF_ERROR(ParseNumber(kNames[i], parts[i], *outs[i]));
    }
    return Status::Ok();
  }

  Status ParseNumber(const char* name, std::string_view digits, std::uint64_t& out) const {
    const std::string label = std::string(name) + " '" + std::string(digits) + "'";
    if (!IsAllDigits(digits)) {
      return Error(digits.empty() ? std::string(name) + " is empty"
                                  : label + " is not a decimal number");
    }
    if (digits.size() > 1 && digits.front() == '0') {
      return Error(label + " has a leading zero");
    }
    // node-semver refuses numbers above JavaScript's Number.MAX_SAFE_INTEGER, so a larger
    // one stored here would be a version no npm client can install.
    out = 0;
    for (char c : digits) {
      const auto digit = static_cast<std::uint64_t>(c - '0');
      if (out > (kMaxNumber - digit) / 10) {
        return Error(label + " is too large (at most " + std::to_string(kMaxNumber) + ")");
      }
      out = out * 10 + digit;
    }
    return Status::Ok();
  }

  // Sections 9 and 10: dot-separated, non-empty identifiers of [0-9A-Za-z-]; only prerelease
  // numbers must be free of leading zeros, since only they take part in precedence.
  Status ParseIdentifiers(std::string_view text, bool is_build) {
    const std::string what = is_build ? "build metadata" : "prerelease";
    if (text.empty()) {
      return Error(std::string("empty ") + what + " after '" + (is_build ? "+" : "-") + "'");
    }
    std::vector<std::string>& out = is_build ? v_.build_ : v_.prerelease_;
    for (std::string_view id : SplitAscii(text, '.')) {
      if (id.empty()) {
        return Error("empty " + what + " identifier (two dots in a row, or a dot at an end)");
      }
      for (char c : id) {
        if (c == '+' && is_build) {
          return Error("more than one '+'");
        }
        if (!IsIdentifierChar(c)) {
          return Error(what + " identifier '" + std::string(id) + "' contains " + DescribeByte(c) +
                       "; only [0-9A-Za-z-] are allowed");
        }
      }
      if (!is_build && IsAllDigits(id) && id.size() > 1 && id.front() == '0') {
        return Error("numeric prerelease identifier '" + std::string(id) + "' has a leading zero");
      }
      out.emplace_back(id);
    }
    return Status::Ok();
  }

  std::string_view text_;
  Version v_;
};

Result<Version> Version::Parse(std::string_view text) { return VersionParser(text).Run(); }

std::string Version::Key() const {
  std::string out =
      std::to_string(major_) + "." + std::to_string(minor_) + "." + std::to_string(patch_);
  AppendIdentifiers(out, '-', prerelease_);
  return out;
}

std::string Version::ToString() const {
  std::string out = Key();
  AppendIdentifiers(out, '+', build_);
  return out;
}

std::weak_ordering operator<=>(const Version& a, const Version& b) {
  if (auto c = a.major_ <=> b.major_; c != 0) {
    return c;
  }
  if (auto c = a.minor_ <=> b.minor_; c != 0) {
    return c;
  }
  if (auto c = a.patch_ <=> b.patch_; c != 0) {
    return c;
  }
  // Section 11.3: a prerelease has lower precedence than the release it precedes.
  if (a.prerelease_.empty() != b.prerelease_.empty()) {
    return a.prerelease_.empty() ? std::weak_ordering::greater : std::weak_ordering::less;
  }
  if (a.prerelease_.empty()) {
    return std::weak_ordering::equivalent;
  }
  const size_t shared = std::min(a.prerelease_.size(), b.prerelease_.size());
  for (size_t i = 0; i < shared; ++i) {
    if (auto c = CompareIdentifiers(a.prerelease_[i], b.prerelease_[i]); c != 0) {
      return c;
    }
  }
  // Section 11.4.4: a larger set of fields wins when all preceding ones are equal.
  return a.prerelease_.size() <=> b.prerelease_.size();
}

}  // namespace pipy::semver
