#include "web/readme_renderer.h"

#include <algorithm>
#include <utility>

#include "core/escape.h"
#include "core/sha256.h"
#include "web/markdown.h"

namespace pipy::web {

std::string PlainTextReadme(std::string_view description) {
  return "<p class=\"muted readme-fallback\">This description is shown as plain text: it could "
         "not be rendered within the time and size limits.</p>\n<pre>" +
         HtmlEscape(description) + "</pre>";
}

ReadmeRenderer::ReadmeRenderer(ReadmeOptions options)
    : options_(std::move(options)),
      slots_(std::clamp(options_.max_concurrent_renders, 1, 1024)) {
  if (!options_.render_markdown) {
    options_.render_markdown = [child = options_.child](std::string_view markdown) {
      return RenderMarkdownInChild(markdown, child);
    };
  }
}

std::uint64_t ReadmeRenderer::markdown_renders() const {
  std::lock_guard lock(mu_);
  return renders_;
}

std::optional<std::string> ReadmeRenderer::Lookup(const std::string& key) {
  std::lock_guard lock(mu_);
  auto it = by_key_.find(key);
  if (it == by_key_.end()) {
    return std::nullopt;
  }
  lru_.splice(lru_.begin(), lru_, it->second);
  return it->second->html;
}

void ReadmeRenderer::Store(const std::string& key, const std::string& html) {
  const std::size_t size = key.size() + html.size();
  std::lock_guard lock(mu_);
  if (size > options_.cache_bytes || by_key_.count(key) != 0) {
    return;
  }
  lru_.push_front(Entry{key, html});
  by_key_[key] = lru_.begin();
  bytes_ += size;
  while (bytes_ > options_.cache_bytes && !lru_.empty()) {
    const Entry& last = lru_.back();
    bytes_ -= last.key.size() + last.html.size();
    by_key_.erase(last.key);
    lru_.pop_back();
  }
}

RenderedReadme ReadmeRenderer::Render(std::string_view description,
                                      std::string_view content_type) {
  if (description.empty()) {
    return {};
  }
  if (!IsMarkdownContentType(content_type)) {
    // Escaping is linear and cheap: not worth a cache slot. reStructuredText is not
    // rendered (no safe C++ renderer); plain text reads fine.
    return {"<pre>" + HtmlEscape(description) + "</pre>", true};
  }
  const std::string key = Sha256Hex(description);
  if (std::optional<std::string> cached = Lookup(key)) {
    return {std::move(*cached), true};
  }
  // Bounded: a flood of new hostile READMEs costs at most max_concurrent_renders children
  // at once; the rest wait a while, then show their text unrendered for now.
  if (!slots_.try_acquire_for(options_.child.timeout)) {
    return {PlainTextReadme(description), false};
  }
  Result<std::string> html = options_.render_markdown(description);
  slots_.release();
  {
    std::lock_guard lock(mu_);
    ++renders_;
  }
  if (!html && html.error().code() == StatusCode::kUnavailable) {
    return {PlainTextReadme(description), false};
  }
  // Too slow, too large or a crash: the same input would fail again, so remember that.
  std::string out = html ? std::move(*html) : PlainTextReadme(description);
  Store(key, out);
  return {std::move(out), true};
}

}  // namespace pipy::web
