// Rendering a release's description (the README, core metadata "Description" with
// "Description-Content-Type", PEP 566 / packaging.python.org core metadata 2.1) as safe HTML.
#pragma once

#include <string>
#include <string_view>

namespace pipy::web {

// Renders GitHub-flavoured Markdown (tables, autolinks, strikethrough) with cmark-gfm in
// its safe mode: raw HTML is dropped and links or images with javascript:, vbscript:,
// file: or data: (except images) URLs lose their URL. Any input is accepted (invalid UTF-8
// is replaced). Thread-safe.
std::string RenderMarkdown(std::string_view markdown);

// True when `content_type` (with optional parameters) is text/markdown.
bool IsMarkdownContentType(std::string_view content_type);

// Renders `description` according to `content_type` (a MIME type with optional parameters,
// e.g. "text/markdown; charset=UTF-8; variant=GFM"): text/markdown through RenderMarkdown;
// anything else (text/x-rst, text/plain, empty) as escaped text in a <pre> block. Returns
// "" for an empty description. Renders in the calling thread with no time limit: for
// trusted input only (untrusted READMEs go through ReadmeRenderer, readme_renderer.h).
std::string RenderDescription(std::string_view description, std::string_view content_type);

}  // namespace pipy::web
