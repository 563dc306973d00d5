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

// Decodes a canonical base64 text that arrives in pieces (an npm publish body's tarball,
// streamed from the request body), with exactly Base64Decode's rules for the whole text.
// Memory stays at most four characters plus the output of the last Feed.
class Base64Decoder {
 public:
  // Appends the bytes `chunk` completes to `out`; false when the text so far can no longer
  // be canonical base64 (the decoder is then spent).
  bool Feed(std::string_view chunk, std::string& out);
  // Ends the text: appends what is left to `out`; false when the whole text was not
  // canonical base64.
  bool Finish(std::string& out);

 private:
  std::string pending_;  // characters not decoded yet: the last group may carry padding
  bool failed_ = false;
};

// Encodes `bytes` with padding.
std::string Base64Encode(std::string_view bytes);

}  // namespace pipy
