// Splitting one fuzz input into the pieces a target needs (a selector byte, lines), so a
// target that covers several small parsers gets one input per parser from libFuzzer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace pipy::fuzz {

inline std::string_view AsText(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// At most `max_lines` lines of `input` split at '\n' (the last one takes the rest).
inline std::vector<std::string_view> Lines(std::string_view input, std::size_t max_lines) {
  std::vector<std::string_view> lines;
  while (lines.size() + 1 < max_lines) {
    std::size_t nl = input.find('\n');
    if (nl == std::string_view::npos) {
      break;
    }
    lines.push_back(input.substr(0, nl));
    input.remove_prefix(nl + 1);
  }
  lines.push_back(input);
  return lines;
}

}  // namespace pipy::fuzz
