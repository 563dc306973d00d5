// Parsing of an upstream's project page in the simple repository API: PEP 503 HTML (with
// PEP 592 data-yanked, PEP 658 / 714 data-core-metadata / data-dist-info-metadata, PEP 345
// data-requires-python) and PEP 691 JSON. Pure functions; the input is untrusted, so
// parsing never fails on odd markup — it keeps what it can read.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace pipy::upstream {

// One file as the upstream described it. URLs are absolute (resolved against the page's
// URL) and without fragment; nothing here has been checked against any policy yet.
struct UpstreamFile {
  std::string filename;
  std::string url;
  std::string sha256;             // lowercase hex as given; "" when the upstream gave none
  std::string requires_python;    // HTML-unescaped
  bool yanked = false;
  std::string yanked_reason;
  bool has_metadata = false;      // PEP 658 / 714: "<url>.metadata" exists
  std::string metadata_sha256;    // "" when no hash was given
  std::optional<std::uint64_t> size;   // PEP 700 (JSON only)
  std::string upload_time;             // PEP 700 (JSON only), as given
};

struct UpstreamProject {
  std::string name;               // normalized
  std::vector<UpstreamFile> files;
};

// The media type asked of the upstream: PEP 691 JSON first, HTML as a fallback.
inline constexpr std::string_view kUpstreamAccept =
    "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, "
    "text/html;q=0.1";

// True when `content_type` (a Content-Type header value) is PEP 691 JSON.
bool IsSimpleJson(std::string_view content_type);

// Decodes HTML character references (&amp; &lt; &gt; &quot; &apos; &#NN; &#xHH;) in an
// attribute value or text; unknown references are kept as they are.
std::string HtmlUnescape(std::string_view text);

// Every <a href> of a PEP 503 project page. Anchors without href are skipped; the file
// name is the anchor's text, or the URL's last path segment when the text is empty.
// `page_url` is the absolute URL the page was fetched from.
UpstreamProject ParseProjectHtml(std::string_view html, std::string_view page_url,
                                 std::string_view normalized_name);

// A PEP 691 project page. kInvalidArgument when the body is not a JSON object with a
// "files" array; entries that are not objects or lack filename/url are skipped.
Result<UpstreamProject> ParseProjectJson(std::string_view json, std::string_view page_url,
                                         std::string_view normalized_name);

}  // namespace pipy::upstream
