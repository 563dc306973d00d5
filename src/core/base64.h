// Base64 (RFC 4648 section 4, the standard alphabet with '=' padding), as HTTP basic
// credentials (RFC 7617) and npm publish bodies carry it.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace pipy {

// Decodes canonical base64: a length that is a multiple of 4, characters of the standard
// alphabet only, at most two '=' and only at the end, and zero bits where padding starts
// (RFC 4648 section 3.5), so every accepted text is exactly Base64Encode of its result.
// nullopt for anything else (spaces and line breaks included). "" decodes to "".
std::optional<std::string> Base64Decode(std::string_view text);

// Encodes `bytes` with padding.
std::string Base64Encode(std::string_view bytes);

}  // namespace pipy
