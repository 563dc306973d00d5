#include "core/npm_name.h"

#include <algorithm>
#include <array>

#include "core/strings.h"

namespace pipy::npm_name {
namespace {

// Names npm refuses outright ("no funny business" in validate-npm-package-name).
constexpr std::array<std::string_view, 2> kExcluded = {"node_modules", "favicon.ico"};

// Node's core modules, verbatim from validate-npm-package-name 8.0.0's
// lib/builtin-modules.json (node's `require('node:module').builtinModules`). A package of
// that name would be shadowed by the core module on `require`. Entries with '/' or ':' can
// never pass the other rules; they are kept so the table stays a copy of the upstream list.
// clang-format off
constexpr std::array<std::string_view, 72> kCoreModules = {
    "_http_agent", "_http_client", "_http_common", "_http_incoming", "_http_outgoing",
    "_http_server", "_stream_duplex", "_stream_passthrough", "_stream_readable",
    "_stream_transform", "_stream_wrap", "_stream_writable", "_tls_common", "_tls_wrap", "assert",
    "assert/strict", "async_hooks", "buffer", "child_process", "cluster", "console", "constants",
    "crypto", "dgram", "diagnostics_channel", "dns", "dns/promises", "domain", "events", "fs",
    "fs/promises", "http", "http2", "https", "inspector", "inspector/promises", "module", "net",
    "os", "path", "path/posix", "path/win32", "perf_hooks", "process", "punycode", "querystring",
    "readline", "readline/promises", "repl", "stream", "stream/consumers", "stream/promises",
    "stream/web", "string_decoder", "sys", "timers", "timers/promises", "tls", "trace_events",
    "tty", "url", "util", "util/types", "v8", "vm", "wasi", "worker_threads", "zlib", "node:sea",
    "node:sqlite", "node:test", "node:test/reporters",
};
// clang-format on

// Characters npm stopped allowing in new names (they are URL-safe, but have meaning in
// shells and globs).
constexpr std::string_view kSpecialChars = "~'!()*";

// The characters encodeURIComponent leaves unescaped: a name made of them is its own URL
// path segment, so the registry's URLs, filenames and storage keys need no escaping.
bool IsUrlSafe(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("-_.!~*'()").find(c) != std::string_view::npos;
}

// The offending byte, readable in a message even when it is a control or non-ASCII byte.
std::string DescribeByte(char c) {
  if (c > ' ' && c < 0x7f) {
    return std::string("'") + c + "'";
  }
  std::string out = "byte 0x";
  AppendHexByte(out, static_cast<unsigned char>(c));
  return out;
}

Status Refuse(std::string_view name, const std::string& rule) {
  // A refused name may be long; the message only needs enough of it to recognize it.
  constexpr size_t kShown = 64;
  std::string shown(name.substr(0, kShown));
  if (name.size() > kShown) {
    shown += "...";
  }
  return InvalidArgument("invalid npm package name '" + shown + "': " + rule);
}

// The rules a scope and a basename each follow on their own. `what` is "scope" or
// "basename", or "name" for an unscoped name (whose leading-character rules the caller has
// already checked, with the same result).
Status CheckPart(std::string_view name, std::string_view part, const std::string& what) {
  if (part.empty()) {
    return Refuse(name, what + " is empty (a scoped name is '@scope/name')");
  }
  if (part == "." || part == "..") {
    return Refuse(name, what + " cannot be '" + std::string(part) + "'");
  }
  if (part.front() == '.') {
    return Refuse(name, what + " cannot start with a period");
  }
  if (part.front() == '_') {
    return Refuse(name, what + " cannot start with an underscore");
  }
  for (char c : part) {
    if (c == '/') {
      return Refuse(name, "'/' is only allowed as the separator of a scoped name '@scope/name'");
    }
    if (!IsUrlSafe(c)) {
      return Refuse(name, what + " contains " + DescribeByte(c) +
                              "; only URL-friendly characters [a-z0-9-._] are allowed");
    }
  }
  return Status::Ok();
}

}  // namespace

Status Validate(std::string_view name) {
  if (name.empty()) {
    return Refuse(name, "name is empty");
  }
  if (name.size() > kMaxNameLength) {
    return Refuse(name, "name is longer than " + std::to_string(kMaxNameLength) + " characters (" +
                            std::to_string(name.size()) + ")");
  }
  if (IsAsciiWhitespace(name.front()) || IsAsciiWhitespace(name.back())) {
    return Refuse(name, "name cannot contain leading or trailing spaces");
  }
  if (name.front() == '.') {
    return Refuse(name, "name cannot start with a period");
  }
  if (name.front() == '_') {
    return Refuse(name, "name cannot start with an underscore");
  }
  // Added in validate-npm-package-name 7.0.1: "-x" reads as a command-line option.
  if (name.front() == '-') {
    return Refuse(name, "name cannot start with a hyphen");
  }
  if (std::any_of(name.begin(), name.end(), [](char c) { return c >= 'A' && c <= 'Z'; })) {
    return Refuse(name, "name cannot contain capital letters");
  }
  const std::string lower = AsciiLower(name);
  for (std::string_view excluded : kExcluded) {
    if (lower == excluded) {
      return Refuse(name, std::string(excluded) + " is not a valid package name");
    }
  }
  for (std::string_view core : kCoreModules) {
    if (lower == core) {
      return Refuse(name, std::string(core) + " is a Node core module name");
    }
  }
  if (const size_t at = name.find_first_of(kSpecialChars); at != std::string_view::npos) {
    return Refuse(name, "name cannot contain special characters (\"~'!()*\"), found " +
                            DescribeByte(name[at]));
  }
  if (name.front() != '@') {
    return CheckPart(name, name, "name");
  }
  const size_t slash = name.find('/');
  if (slash == std::string_view::npos) {
    return Refuse(name, "a name starting with '@' must be a scoped name '@scope/name'");
  }
  PIPY_RETURN_IF_ERROR(CheckPart(name, name.substr(1, slash - 1), "scope"));
  return CheckPart(name, name.substr(slash + 1), "basename");
}

Status ValidateExisting(std::string_view name) {
  if (name.empty()) {
    return Refuse(name, "name is empty");
  }
  if (name.size() > kMaxNameLength) {
    return Refuse(name, "name is longer than " + std::to_string(kMaxNameLength) + " characters (" +
                            std::to_string(name.size()) + ")");
  }
  if (name.front() == '.' || name.front() == '_') {
    return Refuse(name, "name cannot start with a period or an underscore");
  }
  const std::string lower = AsciiLower(name);
  for (std::string_view excluded : kExcluded) {
    if (lower == excluded) {
      return Refuse(name, std::string(excluded) + " is not a valid package name");
    }
  }
  if (name.front() != '@') {
    return CheckPart(name, name, "name");
  }
  const size_t slash = name.find('/');
  if (slash == std::string_view::npos) {
    return Refuse(name, "a name starting with '@' must be a scoped name '@scope/name'");
  }
  PIPY_RETURN_IF_ERROR(CheckPart(name, name.substr(1, slash - 1), "scope"));
  return CheckPart(name, name.substr(slash + 1), "basename");
}

Parts Split(std::string_view valid_name) {
  if (valid_name.empty() || valid_name.front() != '@') {
    return Parts{"", valid_name};
  }
  const size_t slash = valid_name.find('/');
  if (slash == std::string_view::npos) {
    return Parts{"", valid_name};
  }
  return Parts{valid_name.substr(1, slash - 1), valid_name.substr(slash + 1)};
}

std::string TarballFilename(std::string_view name, std::string_view version) {
  std::string out(Split(name).basename);
  out.push_back('-');
  out += version;
  out += ".tgz";
  return out;
}

}  // namespace pipy::npm_name
