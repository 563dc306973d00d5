#include "core/pep440_version.h"

#include <algorithm>
#include <array>
#include <limits>
#include <tuple>
#include <utility>

#include "core/strings.h"

namespace pipy::pep440 {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsLowerAlnum(char c) { return IsDigit(c) || (c >= 'a' && c <= 'z'); }
bool IsSeparator(char c) { return c == '-' || c == '_' || c == '.'; }

// Compares two digit strings without leading zeros by numeric value.
std::strong_ordering CompareDigits(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) {
    return a.size() <=> b.size();
  }
  return a.compare(b) <=> 0;
}

}  // namespace

// A recursive-descent parser equivalent to PEP 440's Appendix B regex. Each optional group
// either matches completely or leaves the position where it was, which is all the regex's
// backtracking can achieve for this grammar.
class VersionParser {
 public:
  explicit VersionParser(std::string_view text) : s_(Lower(text)) { v_.release_.clear(); }

  Result<Version> Run() {
    if (s_.empty()) {
      return Error("empty version");
    }
    if (Peek() == 'v') {
      ++i_;
    }
    PIPY_RETURN_IF_ERROR(ParseEpochAndRelease());
    PIPY_RETURN_IF_ERROR(ParsePre());
    PIPY_RETURN_IF_ERROR(ParsePost());
    PIPY_RETURN_IF_ERROR(ParseDev());
    PIPY_RETURN_IF_ERROR(ParseLocal());
    if (i_ != s_.size()) {
      return Error("unexpected text at position " + std::to_string(i_ + 1));
    }
    return std::move(v_);
  }

 private:
  // Python's str.strip() then ASCII lowercase, as packaging does before parsing.
  static std::string Lower(std::string_view text) {
    return AsciiLower(TrimAsciiWhitespace(text));
  }

  Status Error(std::string why) const {
    return InvalidArgument("invalid version '" + s_ + "': " + why +
                           " (see PEP 440, e.g. 1.0, 2.1rc1, 1.0.post1, 3.0.dev2)");
  }

  char Peek(size_t ahead = 0) const { return i_ + ahead < s_.size() ? s_[i_ + ahead] : '\0'; }

  bool ConsumeKeyword(std::string_view word) {
    if (s_.compare(i_, word.size(), word) == 0) {
      i_ += word.size();
      return true;
    }
    return false;
  }

  void ConsumeOptionalSeparator() {
    if (IsSeparator(Peek())) {
      ++i_;
    }
  }

  // Reads a run of digits (at least one, caller checked) into `out`.
  Status ConsumeNumber(std::uint64_t& out) {
    out = 0;
    while (IsDigit(Peek())) {
      const auto digit = static_cast<std::uint64_t>(Peek() - '0');
      if (out > (std::numeric_limits<std::uint64_t>::max() - digit) / 10) {
        return Error("number too large");
      }
      out = out * 10 + digit;
      ++i_;
    }
    return Status::Ok();
  }

  // An optional number after a label; absent means 0 (PEP 440 "implicit ... number").
  Status ConsumeOptionalNumber(std::uint64_t& out) {
    out = 0;
    if (!IsDigit(Peek())) {
      return Status::Ok();
    }
    return ConsumeNumber(out);
  }

  Status ParseEpochAndRelease() {
    if (!IsDigit(Peek())) {
      return Error("expected a release number");
    }
    std::uint64_t first = 0;
    PIPY_RETURN_IF_ERROR(ConsumeNumber(first));
    if (Peek() == '!') {
      ++i_;
      v_.epoch_ = first;
      if (!IsDigit(Peek())) {
        return Error("expected a release number after the epoch");
      }
      PIPY_RETURN_IF_ERROR(ConsumeNumber(first));
    }
    v_.release_.push_back(first);
    while (Peek() == '.' && IsDigit(Peek(1))) {
      ++i_;
      std::uint64_t n = 0;
      PIPY_RETURN_IF_ERROR(ConsumeNumber(n));
      v_.release_.push_back(n);
    }
    return Status::Ok();
  }

  Status ParsePre() {
    const size_t save = i_;
    ConsumeOptionalSeparator();
    // Longest spellings first, so "preview" is not read as "pre" + "view".
    static constexpr std::array<std::pair<std::string_view, Version::PreKind>, 8> kLabels = {{
        {"preview", Version::PreKind::kRc},
        {"alpha", Version::PreKind::kAlpha},
        {"beta", Version::PreKind::kBeta},
        {"pre", Version::PreKind::kRc},
        {"rc", Version::PreKind::kRc},
        {"a", Version::PreKind::kAlpha},
        {"b", Version::PreKind::kBeta},
        {"c", Version::PreKind::kRc},
    }};
    for (const auto& [word, kind] : kLabels) {
      if (ConsumeKeyword(word)) {
        ConsumeOptionalSeparator();
        std::uint64_t n = 0;
        PIPY_RETURN_IF_ERROR(ConsumeOptionalNumber(n));
        v_.pre_ = Version::Pre{kind, n};
        return Status::Ok();
      }
    }
    i_ = save;
    return Status::Ok();
  }

  Status ParsePost() {
    // Implicit post release: "1.0-1".
    if (Peek() == '-' && IsDigit(Peek(1))) {
      ++i_;
      std::uint64_t n = 0;
      PIPY_RETURN_IF_ERROR(ConsumeNumber(n));
      v_.post_ = n;
      return Status::Ok();
    }
    const size_t save = i_;
    ConsumeOptionalSeparator();
    for (std::string_view word : {"post", "rev", "r"}) {
      if (ConsumeKeyword(word)) {
        ConsumeOptionalSeparator();
        std::uint64_t n = 0;
        PIPY_RETURN_IF_ERROR(ConsumeOptionalNumber(n));
        v_.post_ = n;
        return Status::Ok();
      }
    }
    i_ = save;
    return Status::Ok();
  }

  Status ParseDev() {
    const size_t save = i_;
    ConsumeOptionalSeparator();
    if (!ConsumeKeyword("dev")) {
      i_ = save;
      return Status::Ok();
    }
    ConsumeOptionalSeparator();
    std::uint64_t n = 0;
    PIPY_RETURN_IF_ERROR(ConsumeOptionalNumber(n));
    v_.dev_ = n;
    return Status::Ok();
  }

  Status ParseLocal() {
    if (Peek() != '+') {
      return Status::Ok();
    }
    ++i_;
    while (true) {
      const size_t start = i_;
      while (IsLowerAlnum(Peek())) {
        ++i_;
      }
      if (i_ == start) {
        return Error("empty segment in local version label");
      }
      std::string text = s_.substr(start, i_ - start);
      bool numeric = true;
      for (char c : text) {
        numeric = numeric && IsDigit(c);
      }
      if (numeric) {
        const size_t nonzero = text.find_first_not_of('0');
        text = nonzero == std::string::npos ? "0" : text.substr(nonzero);
      }
      v_.local_.push_back({numeric, std::move(text)});
      if (!IsSeparator(Peek())) {
        return Status::Ok();
      }
      ++i_;
    }
  }

  std::string s_;
  size_t i_ = 0;
  Version v_;
};

Version::Version() : release_{0} {}

Result<Version> Version::Parse(std::string_view text) {
  VersionParser parser(text);
  return parser.Run();
}

std::string Version::Public() const {
  std::string out;
  if (epoch_ != 0) {
    out += std::to_string(epoch_) + "!";
  }
  for (size_t i = 0; i < release_.size(); ++i) {
    if (i > 0) {
      out += '.';
    }
    out += std::to_string(release_[i]);
  }
  if (pre_) {
    static constexpr std::array<std::string_view, 3> kNames = {"a", "b", "rc"};
    out += kNames[static_cast<int>(pre_->kind)];
    out += std::to_string(pre_->number);
  }
  if (post_) {
    out += ".post" + std::to_string(*post_);
  }
  if (dev_) {
    out += ".dev" + std::to_string(*dev_);
  }
  return out;
}

std::string Version::local() const {
  std::string out;
  for (size_t i = 0; i < local_.size(); ++i) {
    if (i > 0) {
      out += '.';
    }
    out += local_[i].text;
  }
  return out;
}

std::string Version::ToString() const {
  std::string out = Public();
  if (!local_.empty()) {
    out += '+';
    out += local();
  }
  return out;
}

std::string Version::Key() const {
  Version v = *this;
  while (v.release_.size() > 1 && v.release_.back() == 0) {
    v.release_.pop_back();
  }
  return v.ToString();
}

Version Version::WithoutLocal() const {
  Version v = *this;
  v.local_.clear();
  return v;
}

Version Version::BaseVersion() const {
  Version v;
  v.epoch_ = epoch_;
  v.release_ = release_;
  return v;
}

std::strong_ordering operator<=>(const Version& a, const Version& b) {
  if (auto c = a.epoch_ <=> b.epoch_; c != 0) {
    return c;
  }
  // Release: compare as if the shorter one were padded with zeros (trailing zeros ignored).
  const size_t n = std::max(a.release_.size(), b.release_.size());
  for (size_t i = 0; i < n; ++i) {
    const std::uint64_t x = i < a.release_.size() ? a.release_[i] : 0;
    const std::uint64_t y = i < b.release_.size() ? b.release_[i] : 0;
    if (auto c = x <=> y; c != 0) {
      return c;
    }
  }
  // Pre-release key as in `packaging`: a bare .devN (no pre, no post) sorts before every
  // pre-release; no pre-release sorts after all of them.
  auto pre_key = [](const Version& v) {
    if (!v.pre_ && !v.post_ && v.dev_) {
      return std::tuple<int, int, std::uint64_t>(0, 0, 0);
    }
    if (!v.pre_) {
      return std::tuple<int, int, std::uint64_t>(2, 0, 0);
    }
    return std::tuple<int, int, std::uint64_t>(1, static_cast<int>(v.pre_->kind), v.pre_->number);
  };
  if (auto c = pre_key(a) <=> pre_key(b); c != 0) {
    return c;
  }
  // No post release sorts first; no dev release sorts last.
  auto post_key = [](const Version& v) {
    return v.post_ ? std::pair<int, std::uint64_t>(1, *v.post_)
                   : std::pair<int, std::uint64_t>(0, 0);
  };
  if (auto c = post_key(a) <=> post_key(b); c != 0) {
    return c;
  }
  auto dev_key = [](const Version& v) {
    return v.dev_ ? std::pair<int, std::uint64_t>(0, *v.dev_) : std::pair<int, std::uint64_t>(1, 0);
  };
  if (auto c = dev_key(a) <=> dev_key(b); c != 0) {
    return c;
  }
  // Local: none < any; segment by segment, numbers after strings; a prefix sorts first.
  const size_t m = std::min(a.local_.size(), b.local_.size());
  for (size_t i = 0; i < m; ++i) {
    const auto& x = a.local_[i];
    const auto& y = b.local_[i];
    if (x.numeric != y.numeric) {
      return x.numeric ? std::strong_ordering::greater : std::strong_ordering::less;
    }
    auto c = x.numeric ? CompareDigits(x.text, y.text) : (x.text.compare(y.text) <=> 0);
    if (c != 0) {
      return c;
    }
  }
  return a.local_.size() <=> b.local_.size();
}

}  // namespace pipy::pep440
