// Text escaping and validation for rendering untrusted strings (project names, summaries,
// filenames) into HTML pages.
#pragma once

#include <string>
#include <string_view>

namespace pipy {

// Returns `text` with the five HTML-significant characters replaced by entities:
// & -> &amp;  < -> &lt;  > -> &gt;  " -> &quot;  ' -> &#39;. Safe for element content and for
// quoted attribute values. Other bytes (including invalid UTF-8) are copied unchanged.
std::string HtmlEscape(std::string_view text);

// Returns true when `text` is well-formed UTF-8 (RFC 3629): no overlong forms, no surrogates
// (U+D800..U+DFFF), nothing above U+10FFFF, no truncated sequences. NUL bytes are valid.
bool IsValidUtf8(std::string_view text);

}  // namespace pipy
