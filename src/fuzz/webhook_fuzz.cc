// The push webhook's payload parts (builder/webhook.h) on any body:
//   - PushedRef: a ref it returns is the body's "ref" string: {"ref": <it>} gives it back;
//   - VerifyHubSignature: true for "sha256=" + the body's HMAC (hex in either case), false
//     for any other hex of that length, an empty secret, a missing prefix, or the header
//     given as the first line of the input unless it is exactly that signature;
//   - RecentDeliveries: a delivery is new once; a replay with another id is still known.
#include <cctype>
#include <cstdint>
#include <string>
#include <string_view>

#include <boost/json.hpp>

#include "builder/webhook.h"
#include "core/strings.h"
#include "fuzz/fuzz_check.h"
#include "fuzz/fuzz_input.h"

namespace {

using pipy::fuzz::Check;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using pipy::builder::HubSignatureHex;
  using pipy::builder::VerifyHubSignature;
  std::string_view input = pipy::fuzz::AsText(data, size);
  std::size_t nl = input.find('\n');
  std::string_view header = input.substr(0, nl);
  std::string_view body = nl == std::string_view::npos ? input : input.substr(nl + 1);

  if (auto ref = pipy::builder::PushedRef(body)) {
    boost::json::object o;
    o["ref"] = *ref;
    auto again = pipy::builder::PushedRef(boost::json::serialize(o));
    Check(again.has_value() && *again == *ref, "a pushed ref round-trips through JSON");
  }
  (void)pipy::builder::PushedRef(input);

  const std::string secret = "s3cret";
  const std::string hex = HubSignatureHex(secret, body);
  Check(hex.size() == 64, "the signature is 64 hex digits");
  Check(VerifyHubSignature(secret, body, "sha256=" + hex), "the body's signature verifies");
  std::string upper = hex;
  for (char& c : upper) {
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  Check(VerifyHubSignature(secret, body, "sha256=" + upper), "upper-case hex verifies");
  std::string wrong = hex;
  wrong[size % 64] = wrong[size % 64] == '0' ? '1' : '0';
  Check(!VerifyHubSignature(secret, body, "sha256=" + wrong), "another signature fails");
  Check(!VerifyHubSignature("", body, "sha256=" + HubSignatureHex("", body)),
        "an empty secret never verifies");
  Check(!VerifyHubSignature(secret, body, hex), "the prefix is required");
  Check(VerifyHubSignature(secret, body, header) ==
            (header.starts_with("sha256=") &&
             pipy::AsciiLower(header.substr(7)) == hex),
        "a header verifies exactly when it is the signature");

  pipy::builder::RecentDeliveries recent(4);
  Check(recent.FirstTime("src", header, body), "a delivery is new once");
  Check(!recent.FirstTime("src", header, body), "its replay is known");
  Check(!recent.FirstTime("src", "another-id", body), "a replay with another id is known");
  Check(recent.FirstTime("other", header, body), "sources are apart");
  return 0;
}
