#include "core/base64.h"

#include <array>
#include <cstdint>

namespace pipy {

namespace {

constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// Byte -> 6-bit value, or -1 for bytes outside the alphabet ('=' included).
constexpr std::array<std::int8_t, 256> MakeDecodeTable() {
  std::array<std::int8_t, 256> table{};
  for (auto& v : table) {
    v = -1;
  }
  for (std::size_t i = 0; i < kAlphabet.size(); ++i) {
    table[static_cast<unsigned char>(kAlphabet[i])] = static_cast<std::int8_t>(i);
  }
  return table;
}

constexpr std::array<std::int8_t, 256> kDecode = MakeDecodeTable();

}  // namespace

std::optional<std::string> Base64Decode(std::string_view text) {
  if (text.size() % 4 != 0) {
    return std::nullopt;
  }
  std::size_t padding = 0;
  if (!text.empty() && text.back() == '=') {
    padding = text.size() >= 2 && text[text.size() - 2] == '=' ? 2 : 1;
  }
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (std::size_t i = 0; i < text.size(); i += 4) {
    const bool last = i + 4 == text.size();
    const std::size_t data_chars = last ? 4 - padding : 4;
    std::uint32_t group = 0;
    for (std::size_t j = 0; j < 4; ++j) {
      std::int8_t v = 0;
      if (j < data_chars) {
        v = kDecode[static_cast<unsigned char>(text[i + j])];
        if (v < 0) {
          return std::nullopt;  // outside the alphabet, or '=' before the end
        }
      }
      group = (group << 6) | static_cast<std::uint32_t>(v);
    }
    const char bytes[3] = {static_cast<char>(group >> 16), static_cast<char>(group >> 8),
                           static_cast<char>(group)};
    const std::size_t n = data_chars - 1;  // 4 chars -> 3 bytes, 3 -> 2, 2 -> 1
    // Canonical form: the bits below the last whole byte are zero.
    if ((n == 2 && (group & 0xff) != 0) || (n == 1 && (group & 0xffff) != 0)) {
      return std::nullopt;
    }
    out.append(bytes, n);
  }
  return out;
}

bool Base64Decoder::Feed(std::string_view chunk, std::string& out) {
  if (failed_) {
    return false;
  }
  pending_.append(chunk);
  // Every whole group but the last is decoded now; the last may be the padded end.
  std::size_t ready = pending_.size() < 4 ? 0 : (pending_.size() - 1) / 4 * 4;
  if (ready == 0) {
    return true;
  }
  std::string_view groups = std::string_view(pending_).substr(0, ready);
  std::optional<std::string> bytes;
  if (groups.find('=') == std::string_view::npos) {  // padding only at the very end
    bytes = Base64Decode(groups);
  }
  if (!bytes) {
    failed_ = true;
    return false;
  }
  out.append(*bytes);
  pending_.erase(0, ready);
  return true;
}

bool Base64Decoder::Finish(std::string& out) {
  if (failed_) {
    return false;
  }
  std::optional<std::string> bytes = Base64Decode(pending_);
  pending_.clear();
  failed_ = true;  // spent either way
  if (!bytes) {
    return false;
  }
  out.append(*bytes);
  return true;
}

std::string Base64Encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    const std::size_t n = std::min<std::size_t>(3, bytes.size() - i);
    std::uint32_t group = 0;
    for (std::size_t j = 0; j < 3; ++j) {
      group = (group << 8) | (j < n ? static_cast<unsigned char>(bytes[i + j]) : 0u);
    }
    for (std::size_t j = 0; j < 4; ++j) {
      out.push_back(j <= n ? kAlphabet[(group >> (18 - 6 * j)) & 0x3f] : '=');
    }
  }
  return out;
}

}  // namespace pipy
