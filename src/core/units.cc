#include "core/units.h"

#include <array>
#include <limits>
#include <string>

#include "core/strings.h"

namespace pipy {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
// What ParseDuration / ParseByteSize ignore around values and units (no \f or \v).
constexpr std::string_view kSpace = " \t\n\r";

std::string_view Trim(std::string_view s) { return TrimAscii(s, kSpace); }

// Consumes leading digits of `s` into `value`; false when there are none or on overflow.
bool ConsumeNumber(std::string_view& s, std::uint64_t& value) {
  if (s.empty() || !IsDigit(s.front())) {
    return false;
  }
  value = 0;
  while (!s.empty() && IsDigit(s.front())) {
    const std::uint64_t digit = static_cast<std::uint64_t>(s.front() - '0');
    if (value > (std::numeric_limits<std::uint64_t>::max() - digit) / 10) {
      return false;
    }
    value = value * 10 + digit;
    s.remove_prefix(1);
  }
  return true;
}

bool CheckedMulAdd(std::uint64_t a, std::uint64_t b, std::uint64_t& acc) {
  if (b != 0 && a > std::numeric_limits<std::uint64_t>::max() / b) {
    return false;
  }
  const std::uint64_t product = a * b;
  if (acc > std::numeric_limits<std::uint64_t>::max() - product) {
    return false;
  }
  acc += product;
  return true;
}

}  // namespace

Result<std::chrono::milliseconds> ParseDuration(std::string_view text) {
  const std::string quoted = "'" + std::string(text) + "'";
  std::string_view s = Trim(text);
  if (s.empty()) {
    return InvalidArgument("empty duration; write e.g. 500ms, 30s, 10m, 1h or 90d");
  }
  struct Unit {
    std::string_view name;
    std::uint64_t millis;
  };
  // Ordered largest first; "ms" precedes "m" so the longer suffix is tried first.
  static constexpr std::array<Unit, 5> kUnits = {
      {{"d", 86400000}, {"h", 3600000}, {"ms", 1}, {"m", 60000}, {"s", 1000}}};
  static constexpr std::array<int, 5> kRank = {0, 1, 4, 2, 3};  // d > h > m > s > ms
  std::uint64_t total = 0;
  int last_rank = -1;
  while (!s.empty()) {
    std::uint64_t value = 0;
    if (!ConsumeNumber(s, value)) {
      return InvalidArgument("invalid duration " + quoted +
                             ": expected a whole number followed by ms, s, m, h or d");
    }
    int matched = -1;
    for (size_t i = 0; i < kUnits.size(); ++i) {
      if (s.substr(0, kUnits[i].name.size()) == kUnits[i].name) {
        matched = static_cast<int>(i);
        break;
      }
    }
    if (matched < 0) {
      return InvalidArgument("invalid duration " + quoted +
                             ": each number needs a unit (ms, s, m, h, d)");
    }
    if (kRank[matched] <= last_rank) {
      return InvalidArgument("invalid duration " + quoted +
                             ": units must go from largest to smallest, once each");
    }
    last_rank = kRank[matched];
    s.remove_prefix(kUnits[matched].name.size());
    if (!CheckedMulAdd(value, kUnits[matched].millis, total) ||
        total > static_cast<std::uint64_t>(
                    std::numeric_limits<std::chrono::milliseconds::rep>::max())) {
      return InvalidArgument("duration " + quoted + " is too large");
    }
  }
  return std::chrono::milliseconds(static_cast<std::chrono::milliseconds::rep>(total));
}

Result<std::uint64_t> ParseByteSize(std::string_view text) {
  const std::string quoted = "'" + std::string(text) + "'";
  std::string_view s = Trim(text);
  std::uint64_t value = 0;
  if (!ConsumeNumber(s, value)) {
    return InvalidArgument("invalid byte size " + quoted +
                           ": expected a whole number, optionally followed by a unit like MiB");
  }
  s = Trim(s);
  const std::string unit = AsciiLower(s);
  struct Unit {
    std::string_view name;
    std::uint64_t factor;
  };
  static constexpr std::uint64_t kKi = 1024;
  static constexpr std::uint64_t kK = 1000;
  static constexpr std::array<Unit, 14> kUnits = {{
      {"", 1},
      {"b", 1},
      {"k", kK},
      {"kb", kK},
      {"m", kK * kK},
      {"mb", kK * kK},
      {"g", kK * kK * kK},
      {"gb", kK * kK * kK},
      {"t", kK * kK * kK * kK},
      {"tb", kK * kK * kK * kK},
      {"kib", kKi},
      {"mib", kKi * kKi},
      {"gib", kKi * kKi * kKi},
      {"tib", kKi * kKi * kKi * kKi},
  }};
  for (const Unit& u : kUnits) {
    if (unit != u.name) {
      continue;
    }
    std::uint64_t total = 0;
    if (!CheckedMulAdd(value, u.factor, total)) {
      return InvalidArgument("byte size " + quoted + " is too large");
    }
    return total;
  }
  return InvalidArgument("invalid byte size " + quoted +
                         ": unknown unit (use B, kB, MB, GB, TB, KiB, MiB, GiB or TiB)");
}

}  // namespace pipy
