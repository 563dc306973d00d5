// Small ASCII string helpers shared by the parsers (HTTP headers, PEP 440 / 508 text,
// metadata, config values). Bytes >= 0x80 are never changed or matched case-insensitively:
// every protocol text handled here is ASCII-case-insensitive only (RFC 9110 section 5.1).
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace pipy {

// Python's str.strip() set for ASCII: space, \t, \n, \r, \f, \v.
inline constexpr std::string_view kAsciiWhitespace = " \t\n\r\f\v";
// HTTP optional whitespace (OWS, RFC 9110 section 5.6.3): space and horizontal tab.
inline constexpr std::string_view kSpacesAndTabs = " \t";

// True when `c` is one of kAsciiWhitespace.
bool IsAsciiWhitespace(char c);

// 'A'..'Z' mapped to 'a'..'z'; every other byte unchanged.
char AsciiLower(char c);
std::string AsciiLower(std::string_view s);

// Equality / prefix test with 'A'..'Z' folded to 'a'..'z' on both sides.
bool EqualsIgnoreCase(std::string_view a, std::string_view b);
bool StartsWithIgnoreCase(std::string_view s, std::string_view prefix);

// `s` without the leading and trailing bytes that are in `chars`.
std::string_view TrimAscii(std::string_view s, std::string_view chars);
// TrimAscii with kAsciiWhitespace.
std::string_view TrimAsciiWhitespace(std::string_view s);
// TrimAscii with kSpacesAndTabs (HTTP header values and list items).
std::string_view TrimSpacesAndTabs(std::string_view s);

// Splits `s` at every `sep`, keeping empty pieces: "a,,b" -> {"a", "", "b"}; "" -> {""}.
std::vector<std::string_view> SplitAscii(std::string_view s, char sep);

// Splits at every `sep` outside double-quoted strings; inside quotes a backslash escapes the
// next byte (RFC 9110 section 5.6.4 quoted-string). Pieces are not trimmed or unquoted.
std::vector<std::string_view> SplitOutsideQuotes(std::string_view s, char sep);

enum class HexCase { kLower, kUpper };

// Appends the two hex digits of `byte` ("0a" / "0A").
void AppendHexByte(std::string& out, unsigned char byte, HexCase hex_case = HexCase::kLower);
// Lowercase hex of `bytes`, two digits per byte (digests, tokens).
std::string HexEncode(std::span<const unsigned char> bytes);
// The value of one hex digit (either case), or -1 for any other byte.
int HexDigitValue(char c);

}  // namespace pipy
