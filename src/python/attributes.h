// The Python format's per-format attributes (catalog.h's Attributes), by name, for the code
// that writes and reads them: python/, web/ and the tools. The accessors return views into
// the record, valid while it lives; "" when absent.
#pragma once

#include <string>
#include <string_view>

#include "catalog/catalog.h"

namespace pipy::python {

// Of a file.
inline constexpr std::string_view kPackageType = "packagetype";         // "bdist_wheel" | "sdist"
inline constexpr std::string_view kMetadataSha256 = "metadata_sha256";  // PEP 658 METADATA blob
inline constexpr std::string_view kRequiresPython = "requires_python";  // also of a release
// Of a release.
inline constexpr std::string_view kDescriptionContentType = "description_content_type";

inline std::string_view PackageType(const catalog::FileRecord& f) {
  return catalog::AttributeOf(f.attributes, kPackageType);
}
inline std::string_view MetadataSha256(const catalog::FileRecord& f) {
  return catalog::AttributeOf(f.attributes, kMetadataSha256);
}
inline std::string_view RequiresPython(const catalog::FileRecord& f) {
  return catalog::AttributeOf(f.attributes, kRequiresPython);
}
inline std::string_view RequiresPython(const catalog::ReleaseMetadata& m) {
  return catalog::AttributeOf(m.attributes, kRequiresPython);
}
inline std::string_view DescriptionContentType(const catalog::ReleaseMetadata& m) {
  return catalog::AttributeOf(m.attributes, kDescriptionContentType);
}

}  // namespace pipy::python
