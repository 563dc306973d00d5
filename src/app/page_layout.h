// Small building blocks of the HTML UI, shared by web/ and the builder's pages: the page
// layout and the formatting of sizes, times and URL path segments. Pure functions; every
// value they interpolate is HTML-escaped by them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace pipy::app {

// Returns a complete HTML5 document: the header (links to Projects and Help) and the link to
// the stylesheet (static_assets.h: no inline style, no asset from another site). `title` is plain text (escaped here); `body_html` is trusted
// HTML that the caller has already escaped.
std::string Layout(std::string_view title, std::string_view body_html);

// Returns a human-readable size in binary units with one decimal: "512 B", "1.5 KiB",
// "12.0 MiB", "3.2 GiB".
std::string FormatSize(std::uint64_t bytes);

// Returns the UTC time of `epoch_ms` as "2024-05-01 12:34 UTC"; "-" for 0 (unknown).
std::string FormatUtc(std::int64_t epoch_ms);

// Percent-encodes `segment` for use as one URL path segment (RFC 3986 unreserved characters
// are kept). The result still needs HtmlEscape inside an attribute (it never contains
// characters that need it, but callers should not rely on that).
std::string EncodePathSegment(std::string_view segment);

}  // namespace pipy::app
