// Base64Decode must accept exactly the canonical encodings: whatever it decodes encodes
// back to the same text, and every encoding decodes back to its bytes.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/base64.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto decoded = pipy::Base64Decode(text)) {
    if (pipy::Base64Encode(*decoded) != text) {
      std::abort();
    }
  }
  if (pipy::Base64Decode(pipy::Base64Encode(text)) != text) {
    std::abort();
  }
  return 0;
}
