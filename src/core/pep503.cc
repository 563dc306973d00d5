#include "core/pep503.h"

#include "core/strings.h"

namespace pipy::pep503 {
namespace {

bool IsSeparator(char c) { return c == '-' || c == '_' || c == '.'; }

bool IsAsciiAlnum(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

}  // namespace

std::string NormalizeName(std::string_view name) {
  std::string out;
  out.reserve(name.size());
  bool in_separator_run = false;
  for (char c : name) {
    if (IsSeparator(c)) {
      if (!in_separator_run) {
        out.push_back('-');
      }
      in_separator_run = true;
      continue;
    }
    in_separator_run = false;
    out.push_back(AsciiLower(c));
  }
  return out;
}

bool IsValidName(std::string_view name) {
  if (name.empty()) {
    return false;
  }
  if (!IsAsciiAlnum(name.front()) || !IsAsciiAlnum(name.back())) {
    return false;
  }
  for (char c : name) {
    if (!IsAsciiAlnum(c) && !IsSeparator(c)) {
      return false;
    }
  }
  return true;
}

}  // namespace pipy::pep503
