// Core metadata (the METADATA file of a wheel, PKG-INFO of an sdist): an RFC 822 style header
// block, then an optional message body holding the description.
// https://packaging.python.org/specifications/core-metadata/
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace pipy {

// Orders field names ASCII case-insensitively, as RFC 822 header names compare.
struct FieldNameLess {
  using is_transparent = void;
  bool operator()(std::string_view a, std::string_view b) const;
};

struct CoreMetadata {
  std::string metadata_version;             // e.g. "2.1"
  std::string name;                         // as written (not normalized, not validated)
  std::string version;                      // as written (not validated as PEP 440)
  std::string summary;                      // "" when absent
  std::string description;                  // "" when absent; see ParseCoreMetadata
  std::string description_content_type;     // "" when absent
  std::string requires_python;              // "" when absent (not validated here)
  std::vector<std::string> requires_dist;   // in file order
  std::vector<std::string> provides_extra;  // in file order

  // Every header field in file order, keyed by its name as written and looked up
  // case-insensitively: fields.equal_range("classifier"). Values as described below; a
  // description taken from the body is not in here.
  std::multimap<std::string, std::string, FieldNameLess> fields;

  // All values of `field` (case-insensitive) in file order; empty when absent.
  std::vector<std::string> GetAll(std::string_view field) const;
};

// Caps on the fields Pipy stores in its catalog and shows on its pages (any uploader writes
// them). Bytes of UTF-8 unless noted; ParseCoreMetadata refuses a file over any of them.
// The Summary cap follows Warehouse's (512 characters, one line); the README cap keeps a
// release row and its rendered page small; License allows a whole license text, which
// older setuptools projects put there (the GPL-3.0 is about 35 KB).
inline constexpr std::size_t kMaxNameBytes = 200;
inline constexpr std::size_t kMaxVersionBytes = 128;
inline constexpr std::size_t kMaxSummaryChars = 512;          // Unicode characters
inline constexpr std::size_t kMaxDescriptionBytes = 1 << 20;  // the README: 1 MiB
inline constexpr std::size_t kMaxLicenseBytes = 64 * 1024;
// Every other field value (Home-page, Author, Author-email, Keywords, Project-URL,
// Classifier, Requires-Dist, ...), each occurrence on its own.
inline constexpr std::size_t kMaxFieldBytes = 8 * 1024;

// Parses a core metadata file of any version (1.0 to 2.3).
//  - Lines end in LF, CRLF or CR. The header block ends at the first empty line; the rest is
//    the body. A line that is neither "Name: value" nor a continuation also ends the header
//    block and starts the body, as Python's email parser (which pip and twine use) does.
//  - A line starting with a space or tab continues the previous field. For Description and
//    License, line structure is kept: the first line loses its leading whitespace, and the
//    continuation lines lose the "       |" prefix (7 spaces and a pipe, the spec's encoding)
//    when all have it, otherwise their common leading whitespace (as setuptools writes it,
//    8 spaces). Other fields are unfolded: continuation lines are joined with one space.
//    Every value is then trimmed of leading and trailing whitespace (a multi-line value keeps
//    its inner line breaks and indentation).
//  - description is the body, verbatim but with line endings turned into LF, when the body is
//    non-empty; else the Description field.
//  - Multiple-use fields (Requires-Dist, Classifier, ...) keep every occurrence in order.
// Returns kInvalidArgument when the text is not valid UTF-8; when Metadata-Version, Name or
// Version is missing or empty; when one of those three appears twice with different values;
// when Summary has continuation lines (it must be one line) or more than kMaxSummaryChars
// characters; when the description (body or field) exceeds kMaxDescriptionBytes; or when
// a field's value, after unfolding, exceeds its cap above (the message names the field).
Result<CoreMetadata> ParseCoreMetadata(std::string_view text);

}  // namespace pipy
