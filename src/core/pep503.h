// Project names: PEP 503 normalization and the PyPA valid-name rule
// (https://packaging.python.org/specifications/name-normalization/).
#pragma once

#include <string>
#include <string_view>

namespace pipy::pep503 {

// Returns the PEP 503 normalized form of `name`: every run of '-', '_' and '.' becomes a single
// '-', and ASCII letters are lowercased. Other bytes are copied unchanged, so callers should
// check IsValidName() first; normalizing a valid name always yields a valid name.
std::string NormalizeName(std::string_view name);

// Returns true when `name` is a valid project name: ASCII only, matching
// ^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$ case-insensitively. The empty string is invalid.
bool IsValidName(std::string_view name);

}  // namespace pipy::pep503
