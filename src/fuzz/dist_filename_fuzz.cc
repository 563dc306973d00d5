// Wheel and sdist filenames (ParseWheelFilename, ParseSdistFilename) on any string:
//   - what is accepted has a valid normalized project name, no path or control byte, and at
//     most 255 bytes; a wheel expands to at most 256 tags;
//   - a wheel's tags are sorted, unique, lowercase "interpreter-abi-platform" triples, and
//     its build tag is empty or starts with a digit;
//   - the filename rebuilt from the parse ("{name}-{version}[-{build}]-{tag}.whl" for each
//     expanded tag, "{name}-{version}.tar.gz|.zip") parses back to the same fields.
#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/filename.h"
#include "core/pep503.h"
#include "fuzz/fuzz_check.h"
#include "fuzz/fuzz_input.h"

namespace {

using pipy::fuzz::Check;

bool HasUnsafeByte(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    unsigned char u = static_cast<unsigned char>(c);
    return c == '/' || c == '\\' || u < 0x20 || u >= 0x7f;
  });
}

// The PEP 427 escaped form of a normalized name: '-' becomes '_'.
std::string Escaped(std::string name) {
  std::replace(name.begin(), name.end(), '-', '_');
  return name;
}

void CheckWheel(std::string_view filename, const pipy::WheelFilename& w) {
  Check(!HasUnsafeByte(filename) && !filename.starts_with('.'), "no unsafe wheel filename");
  Check(pipy::pep503::IsValidName(w.name) && pipy::pep503::NormalizeName(w.name) == w.name,
        "a wheel's name is a normalized valid name");
  Check(w.build_tag.empty() || (w.build_tag[0] >= '0' && w.build_tag[0] <= '9'),
        "a build tag starts with a digit");
  Check(filename.size() <= 255 && w.tags.size() <= 256, "a wheel's name and tags are bounded");
  Check(!w.tags.empty() && std::is_sorted(w.tags.begin(), w.tags.end()) &&
            std::adjacent_find(w.tags.begin(), w.tags.end()) == w.tags.end(),
        "tags are sorted and unique");
  for (const std::string& tag : w.tags) {
    Check(std::count(tag.begin(), tag.end(), '-') == 2, "a tag is a triple");
    Check(std::none_of(tag.begin(), tag.end(), [](char c) { return c >= 'A' && c <= 'Z'; }),
          "a tag is lowercase");
    std::string rebuilt = Escaped(w.name) + "-" + w.version.ToString() +
                          (w.build_tag.empty() ? "" : "-" + w.build_tag) + "-" + tag + ".whl";
    if (rebuilt.size() > 255) {
      continue;  // a normalized version can be longer than its spelling
    }
    auto again = pipy::ParseWheelFilename(rebuilt);
    Check(again.has_value(), "a rebuilt wheel filename parses");
    Check(again->name == w.name && again->version == w.version &&
              again->version.ToString() == w.version.ToString() &&
              again->build_tag == w.build_tag && again->tags.size() == 1 &&
              again->tags[0] == tag,
          "a rebuilt wheel filename parses to the same fields");
  }
}

void CheckSdist(std::string_view filename, const pipy::SdistFilename& s) {
  Check(!HasUnsafeByte(filename) && !filename.starts_with('.'), "no unsafe sdist filename");
  Check(filename.size() <= 255, "an sdist's name is bounded");
  Check(pipy::pep503::IsValidName(s.name) && pipy::pep503::NormalizeName(s.name) == s.name,
        "an sdist's name is a normalized valid name");
  std::string rebuilt =
      Escaped(s.name) + "-" + s.version.ToString() + (s.is_zip ? ".zip" : ".tar.gz");
  if (rebuilt.size() > 255) {
    return;  // normalizing can lengthen a version ("r61" -> ".post61") past the bound
  }
  auto again = pipy::ParseSdistFilename(rebuilt);
  Check(again.has_value(), "a rebuilt sdist filename parses");
  Check(again->name == s.name && again->version.ToString() == s.version.ToString() &&
            again->is_zip == s.is_zip,
        "a rebuilt sdist filename parses to the same fields");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view filename = pipy::fuzz::AsText(data, size);
  if (auto w = pipy::ParseWheelFilename(filename)) {
    CheckWheel(filename, *w);
  }
  if (auto s = pipy::ParseSdistFilename(filename)) {
    CheckSdist(filename, *s);
  }
  return 0;
}
