// Distribution filenames: wheels (PEP 427 / the "binary distribution format" spec, with PEP 425
// compressed tag sets) and sdists ("source distribution format": name-version.tar.gz, plus the
// legacy .zip). Behaviour follows Python's `packaging` 23.0 parse_wheel_filename and
// parse_sdist_filename, with stricter checks an upload server needs (path characters, names
// that are not valid project names).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "core/pep440_version.h"

namespace pipy {

struct WheelFilename {
  std::string name;  // PEP 503 normalized project name
  pep440::Version version;
  std::string build_tag;  // "" when absent; otherwise starts with a digit ("1", "1build")
  // Every tag the compressed tag set expands to, as lowercase "interpreter-abi-platform",
  // sorted and without duplicates: "py2.py3-none-any" -> {"py2-none-any", "py3-none-any"}.
  std::vector<std::string> tags;
};

struct SdistFilename {
  std::string name;  // PEP 503 normalized project name
  pep440::Version version;
  bool is_zip = false;  // legacy "name-version.zip" rather than ".tar.gz"
};

// Parses "{name}-{version}(-{build})?-{python}-{abi}-{platform}.whl". The name part must be a
// valid project name in PEP 427's escaped form (letters, digits, '.', '_'; no "__"); the
// version must be PEP 440; each of the three tag fields is one or more '.'-separated
// [A-Za-z0-9_]+ items, expanding to at most 256 tags. Returns kInvalidArgument otherwise, and
// for any filename that is empty, longer than 255 bytes, starts with '.', or contains '/',
// '\\', NUL or another control or non-ASCII byte.
Result<WheelFilename> ParseWheelFilename(std::string_view filename);

// Parses "{name}-{version}.tar.gz" or "{name}-{version}.zip". Legacy names may hold dashes
// ("pkg-name-1.0.tar.gz"): the split is at the last dash, since a PEP 440 version has none,
// so callers should still check the result against the upload's name and version fields.
// The name must be a valid project name and the version PEP 440. Returns kInvalidArgument
// otherwise, with the same path-character rules as ParseWheelFilename.
Result<SdistFilename> ParseSdistFilename(std::string_view filename);

}  // namespace pipy
