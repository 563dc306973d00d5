// ParseCoreMetadata (METADATA / PKG-INFO) on any text:
//   - what it accepts was valid UTF-8, has non-empty Metadata-Version, Name and Version, and
//     stays within every cap of core/metadata.h (Name, Version, a one-line Summary of at
//     most 512 characters, the description, License, and every other field);
//   - the typed fields agree with the field map (Name, Summary, Requires-Dist, ...);
//   - when every field value is one line, the file rendered back ("Name: value" lines, a
//     blank line, the description as the body) parses to the same fields and description.
#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/escape.h"
#include "core/metadata.h"
#include "core/strings.h"
#include "fuzz/fuzz_check.h"
#include "fuzz/fuzz_input.h"

namespace {

using pipy::CoreMetadata;
using pipy::fuzz::Check;

std::size_t Utf8Chars(std::string_view text) {
  return static_cast<std::size_t>(std::count_if(
      text.begin(), text.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

std::size_t CapOf(std::string_view name) {
  if (pipy::EqualsIgnoreCase(name, "Name")) {
    return pipy::kMaxNameBytes;
  }
  if (pipy::EqualsIgnoreCase(name, "Version")) {
    return pipy::kMaxVersionBytes;
  }
  if (pipy::EqualsIgnoreCase(name, "Description")) {
    return pipy::kMaxDescriptionBytes;
  }
  if (pipy::EqualsIgnoreCase(name, "License")) {
    return pipy::kMaxLicenseBytes;
  }
  return pipy::kMaxFieldBytes;
}

std::string First(const CoreMetadata& m, std::string_view field) {
  auto it = m.fields.find(field);
  return it == m.fields.end() ? std::string() : it->second;
}

void CheckRoundTrip(const CoreMetadata& m) {
  std::string text;
  for (const auto& [name, value] : m.fields) {
    if (value.find('\n') != std::string::npos) {
      return;  // multi-line values have their own encodings; not rebuilt here
    }
  }
  // The multimap keeps insertion order only within one key; render in file order by key.
  for (const auto& [name, value] : m.fields) {
    text += name + ": " + value + "\n";
  }
  const bool from_field = m.description == First(m, "Description");
  if (!from_field) {
    text += "\n" + m.description;
  }
  auto again = pipy::ParseCoreMetadata(text);
  Check(again.has_value(), "rendered metadata parses");
  Check(again->fields == m.fields, "rendered metadata has the same fields");
  Check(again->description == m.description, "rendered metadata has the same description");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text = pipy::fuzz::AsText(data, size);
  auto m = pipy::ParseCoreMetadata(text);
  if (!m.has_value()) {
    return 0;
  }
  Check(pipy::IsValidUtf8(text), "accepted metadata is UTF-8");
  Check(!m->metadata_version.empty() && !m->name.empty() && !m->version.empty(),
        "Metadata-Version, Name and Version are present");
  Check(m->name.size() <= pipy::kMaxNameBytes && m->version.size() <= pipy::kMaxVersionBytes,
        "Name and Version within their caps");
  Check(m->summary.find('\n') == std::string::npos &&
            Utf8Chars(m->summary) <= pipy::kMaxSummaryChars,
        "Summary is one line within its cap");
  Check(m->description.size() <= pipy::kMaxDescriptionBytes, "description within its cap");
  for (const auto& [name, value] : m->fields) {
    if (!pipy::EqualsIgnoreCase(name, "Summary")) {
      Check(value.size() <= CapOf(name), "every field within its cap");
    }
    Check(pipy::IsValidUtf8(value), "every field is UTF-8");
  }
  Check(m->name == First(*m, "Name") && m->summary == First(*m, "Summary") &&
            m->requires_python == First(*m, "Requires-Python") &&
            m->requires_dist == m->GetAll("Requires-Dist") &&
            m->provides_extra == m->GetAll("Provides-Extra"),
        "typed fields agree with the field map");
  CheckRoundTrip(*m);
  return 0;
}
