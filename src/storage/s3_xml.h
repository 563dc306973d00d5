// Just enough XML for S3's answers (ListObjectsV2, InitiateMultipartUpload, errors): finds
// elements by tag name and decodes their text. Boost has no XML parser and S3's documents
// are flat and machine-written, so a tag scanner is enough: it tolerates attributes,
// namespaces on the root, comments, processing instructions and CDATA, and never reads
// past the input. Not a validating parser: malformed input gives missing values, not
// crashes.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pipy::storage::xml {

// The raw contents (between the tags) of every element named `tag` in `doc`, outermost
// first, in document order. Elements nested in a match are not reported separately.
// Self-closing elements (<Tag/>) have empty contents.
std::vector<std::string_view> Elements(std::string_view doc, std::string_view tag);

// The decoded text of the first element named `tag`, or nullopt when there is none.
std::optional<std::string> Text(std::string_view doc, std::string_view tag);

// Replaces the five predefined entities and numeric references (&#38; &#x26;), and unwraps
// CDATA sections. Unknown entities are kept as written.
std::string Decode(std::string_view raw);

// Escapes & < > " ' for element text.
std::string Escape(std::string_view text);

}  // namespace pipy::storage::xml
