// PEP 691 content negotiation for the simple API: picks the page format from the
// request's Accept header (RFC 9110 section 12.5.1 media ranges with q-values).
#pragma once

#include <optional>
#include <string_view>

#include "core/status.h"

namespace pipy::python {

// The formats the simple API serves (PEP 691). The "latest" aliases map to the v1 formats.
enum class SimpleFormat {
  kJsonV1,   // application/vnd.pypi.simple.v1+json
  kHtmlV1,   // application/vnd.pypi.simple.v1+html
  kHtml,     // text/html (PEP 503)
};

// The Content-Type header value to send for `format`.
std::string_view ContentTypeFor(SimpleFormat format);
// A short name for `format` ("json", "v1html", "html"), used in page-cache keys.
std::string_view FormatKey(SimpleFormat format);

// Chooses the format for an Accept header value (nullopt = no header).
//  - No header, an empty header, or one with no parseable media range: kHtml.
//  - Each supported type gets the q of the most specific range that matches it
//    (exact type > "application/*" / "text/*" > "*/*"); q=0 means "not acceptable".
//  - The highest q wins. On a tie, a type named explicitly beats one matched by a
//    wildcard; among explicit matches JSON v1 > v1+html > text/html; among wildcard-only
//    matches text/html > JSON v1 > v1+html (so "*/*" alone gives HTML).
//  - Media-type parameters other than q are ignored; names are case-insensitive.
// Returns kNotAcceptable when no supported type has q > 0 (e.g. "application/json").
Result<SimpleFormat> NegotiateSimpleFormat(std::optional<std::string_view> accept);

}  // namespace pipy::python
