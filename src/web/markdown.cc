#include "web/markdown.h"

#include <cmark-gfm-core-extensions.h>
#include <cmark-gfm.h>

#include <cstdlib>
#include <memory>
#include <mutex>

#include "core/escape.h"
#include "core/strings.h"

namespace pipy::web {
namespace {

struct ParserFree {
  void operator()(cmark_parser* p) const { cmark_parser_free(p); }
};
struct NodeFree {
  void operator()(cmark_node* n) const { cmark_node_free(n); }
};

// CMARK_OPT_DEFAULT is cmark-gfm's safe mode (CMARK_OPT_UNSAFE is what would let raw HTML
// and dangerous URLs through); never add it here: descriptions come from any uploader.
constexpr int kOptions = CMARK_OPT_DEFAULT;

// The "tagfilter" extension is GitHub's second line of defence (it neuters <script>,
// <iframe>, ... should raw HTML ever be enabled).
constexpr const char* kExtensions[] = {"table", "autolink", "strikethrough", "tagfilter"};

}  // namespace

bool IsMarkdownContentType(std::string_view content_type) {
  std::string_view type = TrimSpacesAndTabs(content_type.substr(0, content_type.find(';')));
  return EqualsIgnoreCase(type, "text/markdown");
}

std::string RenderMarkdown(std::string_view markdown) {
  static std::once_flag registered;
  std::call_once(registered, [] { cmark_gfm_core_extensions_ensure_registered(); });

  std::unique_ptr<cmark_parser, ParserFree> parser(cmark_parser_new(kOptions));
  if (!parser) {
    return "";
  }
  for (const char* name : kExtensions) {
    if (cmark_syntax_extension* ext = cmark_find_syntax_extension(name); ext != nullptr) {
      cmark_parser_attach_syntax_extension(parser.get(), ext);
    }
  }
  cmark_parser_feed(parser.get(), markdown.data(), markdown.size());
  std::unique_ptr<cmark_node, NodeFree> document(cmark_parser_finish(parser.get()));
  if (!document) {
    return "";
  }
  char* html = cmark_render_html(document.get(), kOptions,
                                 cmark_parser_get_syntax_extensions(parser.get()));
  if (html == nullptr) {
    return "";
  }
  std::string out(html);
  cmark_get_default_mem_allocator()->free(html);
  return out;
}

std::string RenderDescription(std::string_view description, std::string_view content_type) {
  if (description.empty()) {
    return "";
  }
  if (IsMarkdownContentType(content_type)) {
    return RenderMarkdown(description);
  }
  // reStructuredText is not rendered (no safe C++ renderer); plain text reads fine.
  return "<pre>" + HtmlEscape(description) + "</pre>";
}

}  // namespace pipy::web
