// Helpers for core's unit tests: reading the shared test vectors in PIPY_TESTDATA_DIR.
// Test-only; not part of the `core` library.
#pragma once

#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace pipy::testing {

// Returns the non-empty, non-comment ('#') lines of the test-vector file `name`. Adds a gtest
// failure (and returns nothing) when the file cannot be read, so a missing file never passes.
inline std::vector<std::string> ReadTestdataLines(const std::string& name, bool* ok) {
  std::ifstream in(std::string(PIPY_TESTDATA_DIR) + "/" + name, std::ios::binary);
  *ok = static_cast<bool>(in);
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') {
      line.pop_back();
    }
    if (line.empty() || line[0] == '#') {
      continue;
    }
    lines.push_back(line);
  }
  return lines;
}

// Splits `line` on tabs, keeping empty fields.
inline std::vector<std::string> SplitTabs(std::string_view line) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t tab = line.find('\t', start);
    if (tab == std::string_view::npos) {
      out.emplace_back(line.substr(start));
      return out;
    }
    out.emplace_back(line.substr(start, tab - start));
    start = tab + 1;
  }
}

// Decodes the C-style escapes \n, \t, \r, \0 and \\ that test vectors use for bytes a TSV cannot
// hold. An unknown escape is kept as written.
inline std::string Unescape(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\' || i + 1 == s.size()) {
      out.push_back(s[i]);
      continue;
    }
    char next = s[++i];
    switch (next) {
      case 'n':
        out.push_back('\n');
        break;
      case 't':
        out.push_back('\t');
        break;
      case 'r':
        out.push_back('\r');
        break;
      case '0':
        out.push_back('\0');
        break;
      case '\\':
        out.push_back('\\');
        break;
      default:
        out.push_back('\\');
        out.push_back(next);
        break;
    }
  }
  return out;
}

}  // namespace pipy::testing
