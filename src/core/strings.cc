#include "core/strings.h"

namespace pipy {

bool IsAsciiWhitespace(char c) { return kAsciiWhitespace.find(c) != std::string_view::npos; }

char AsciiLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    c = AsciiLower(c);
  }
  return out;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (AsciiLower(a[i]) != AsciiLower(b[i])) {
      return false;
    }
  }
  return true;
}

bool StartsWithIgnoreCase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && EqualsIgnoreCase(s.substr(0, prefix.size()), prefix);
}

std::string_view TrimAscii(std::string_view s, std::string_view chars) {
  std::size_t first = s.find_first_not_of(chars);
  if (first == std::string_view::npos) {
    return s.substr(s.size());
  }
  std::size_t last = s.find_last_not_of(chars);
  return s.substr(first, last - first + 1);
}

std::string_view TrimAsciiWhitespace(std::string_view s) { return TrimAscii(s, kAsciiWhitespace); }

std::string_view TrimSpacesAndTabs(std::string_view s) { return TrimAscii(s, kSpacesAndTabs); }

std::vector<std::string_view> SplitAscii(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  while (true) {
    std::size_t pos = s.find(sep, start);
    if (pos == std::string_view::npos) {
      out.push_back(s.substr(start));
      return out;
    }
    out.push_back(s.substr(start, pos - start));
    start = pos + 1;
  }
}

std::vector<std::string_view> SplitOutsideQuotes(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  bool quoted = false;
  std::size_t start = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (quoted && c == '\\') {
      ++i;
      continue;
    }
    if (c == '"') {
      quoted = !quoted;
    } else if (c == sep && !quoted) {
      parts.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  parts.push_back(s.substr(start));
  return parts;
}

void AppendHexByte(std::string& out, unsigned char byte, HexCase hex_case) {
  static constexpr char kLowerDigits[] = "0123456789abcdef";
  static constexpr char kUpperDigits[] = "0123456789ABCDEF";
  const char* digits = hex_case == HexCase::kUpper ? kUpperDigits : kLowerDigits;
  out.push_back(digits[byte >> 4]);
  out.push_back(digits[byte & 0x0f]);
}

std::string HexEncode(std::span<const unsigned char> bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char b : bytes) {
    AppendHexByte(out, b);
  }
  return out;
}

int HexDigitValue(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

}  // namespace pipy
