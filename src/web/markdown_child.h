// Rendering untrusted Markdown in a child process, under a wall-clock, CPU, memory and
// output budget. cmark-gfm 0.29 (Debian 12) takes seconds to minutes, or gigabytes, on some
// small inputs ("![[]()" repeated, very wide tables, rows padded to a wide header), and a
// cmark call cannot be interrupted: a process can be killed.
//
// The child is this program run again: the parent starts `executable args... CPU MEM IN`
// (pipy: `/proc/self/exe render-markdown ...`), which must call RenderMarkdownChildMain.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace pipy::web {

// The hidden pipy subcommand that runs RenderMarkdownChildMain.
inline constexpr std::string_view kRenderMarkdownCommand = "render-markdown";

struct MarkdownChildOptions {
  // The program to run and the arguments that make it call RenderMarkdownChildMain.
  std::string executable = "/proc/self/exe";
  std::vector<std::string> args = {std::string(kRenderMarkdownCommand)};
  // Wall clock from start to the last output byte; then the child is SIGKILLed.
  std::chrono::milliseconds timeout{2000};
  // More HTML than this and the child is killed (tables pad every row to the header's
  // width: output can grow with the square of the input).
  std::size_t max_output_bytes = 4 * 1024 * 1024;
  // Backstops applied by the child to itself (setrlimit) before reading any input.
  std::uint64_t memory_limit_bytes = 768ull * 1024 * 1024;  // RLIMIT_AS
  int cpu_limit_seconds = 3;                                 // RLIMIT_CPU
  // The child refuses (exit 3) more input than this.
  std::size_t max_input_bytes = 1024 * 1024;
};

// Renders `markdown` with RenderMarkdown (markdown.h) in a child process. Errors:
// kDeadlineExceeded when it ran past the timeout, kTooLarge when its output exceeded the
// cap or the input exceeded max_input_bytes, kInternal when it failed (crashed, hit a
// resource limit), kUnavailable when it could not be started (no processes, memory or
// descriptors left: retrying later may work). Thread-safe; blocks for at most about
// `timeout`. The child inherits no descriptor but its stdin, stdout and stderr.
Result<std::string> RenderMarkdownInChild(std::string_view markdown,
                                          const MarkdownChildOptions& options);

// The child's side: argv is {program, <one or more args>, CPU seconds, memory bytes,
// max input bytes} (the last three as RenderMarkdownInChild passes them). Limits
// itself, lowers its priority, reads Markdown from stdin, writes the HTML to stdout.
// Returns the exit code: 0, 2 for bad arguments, 3 for too much input, 4 on I/O errors.
int RenderMarkdownChildMain(int argc, char** argv);

}  // namespace pipy::web
