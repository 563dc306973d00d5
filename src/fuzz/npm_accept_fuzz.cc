// WantsAbbreviated on any Accept header: never a crash; false unless the header names
// install-v1 (in any case); a range added with q=0 changes nothing; the abbreviated type
// named first with q=1 always wins (a tie goes to it, and no q is above 1).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/strings.h"
#include "fuzz/fuzz_check.h"
#include "npm/negotiate.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using pipy::fuzz::Check;
  using pipy::npm::WantsAbbreviated;
  std::string_view header(reinterpret_cast<const char*>(data), size);
  const bool wants = WantsAbbreviated(header);
  if (pipy::AsciiLower(header).find("install-v1") == std::string::npos) {
    Check(!wants, "no install-v1 in the header, no abbreviated packument");
  }
  Check(!WantsAbbreviated(std::nullopt), "no header, no abbreviated packument");
  const std::string h(header);
  Check(WantsAbbreviated(h + ",application/vnd.npm.install-v1+json;q=0") == wants,
        "a range with q=0 changes nothing");
  Check(WantsAbbreviated(h + ", application/json;q=0") == wants,
        "a refused full type changes nothing");
  Check(WantsAbbreviated("application/vnd.npm.install-v1+json," + h),
        "install-v1 with q=1 always wins");
  return 0;
}
