// ReadmeRenderer: a release's description (README) as safe HTML, rendered once per content
// and within a budget. Markdown from any uploader goes through a killable child process
// (markdown_child.h); what cannot be rendered in time or within the size limits is shown
// as escaped plain text with a note. Results are kept in a bounded LRU keyed by the
// content's sha256, so rebuilding a project page after a yank or a new file of another
// release does not render again.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <semaphore>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/status.h"
#include "web/markdown_child.h"

namespace pipy::web {

struct ReadmeOptions {
  // The child process's budget (time, output size, memory, CPU).
  MarkdownChildOptions child;
  // Renders Markdown within a budget. Empty: RenderMarkdownInChild(markdown, child). Tests
  // inject a fake.
  std::function<Result<std::string>(std::string_view markdown)> render_markdown;
  // Bytes of rendered HTML (plus keys) kept; the least recently used go first.
  std::size_t cache_bytes = 32 * 1024 * 1024;
  // Renders at once at most (each may use a core and child.memory_limit_bytes). A render
  // that finds none free within child.timeout shows the text unrendered, for now.
  int max_concurrent_renders = 4;
};

struct RenderedReadme {
  std::string html;  // "" for an empty description
  // False when `html` is a fallback for a passing reason (every render slot busy, the
  // renderer could not be started): show it, but build the page again soon.
  bool lasting = true;
};

class ReadmeRenderer {
 public:
  explicit ReadmeRenderer(ReadmeOptions options = {});

  // `description` as HTML according to `content_type` (core metadata
  // Description-Content-Type): text/markdown rendered safely (RenderMarkdown's rules) by
  // `render_markdown`, anything else as escaped text in <pre>. Markdown that fails to
  // render (too slow, too large, a crash) is shown as escaped text after a note, and that
  // outcome is cached too. Thread-safe; blocks for at most about twice child.timeout.
  RenderedReadme Render(std::string_view description, std::string_view content_type);

  // How many times render_markdown ran (for tests and metrics).
  std::uint64_t markdown_renders() const;

 private:
  struct Entry {
    std::string key;
    std::string html;
  };
  std::optional<std::string> Lookup(const std::string& key);
  void Store(const std::string& key, const std::string& html);

  ReadmeOptions options_;
  std::counting_semaphore<1024> slots_;
  mutable std::mutex mu_;
  std::list<Entry> lru_;  // most recently used first
  std::unordered_map<std::string, std::list<Entry>::iterator> by_key_;
  std::size_t bytes_ = 0;
  std::uint64_t renders_ = 0;
};

// The fallback: a short note, then `description` HTML-escaped in <pre>.
std::string PlainTextReadme(std::string_view description);

}  // namespace pipy::web
