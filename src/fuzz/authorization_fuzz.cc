// ParseAuthorization on any header value: a secret or kUnauthenticated, never a crash; a
// basic credential it accepts carries a non-empty secret.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "auth/credentials.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view value(reinterpret_cast<const char*>(data), size);
  auto secret = pipy::auth::ParseAuthorization(value);
  if (secret.has_value() && secret->empty()) {
    std::abort();
  }
  if (!secret.has_value() && secret.error().code() != pipy::StatusCode::kUnauthenticated) {
    std::abort();
  }
  return 0;
}
