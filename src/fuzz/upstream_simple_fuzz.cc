// The upstream's project page (upstream/simple_parse.h), HTML or PEP 691 JSON by the input's
// first byte, then what Pipy serves from it (upstream/project_page.h):
//   - the parse keeps what it can and never fails on HTML; no URL keeps its fragment; the
//     project name is the one asked for (URLs of any scheme are left to the policy);
//   - SelectServable keeps only files of this project with a 64-hex sha256, whose URL
//     passes the policy, each filename once; kept metadata has a 64-hex sha256;
//   - Pipy's own HTML and JSON pages of the kept files parse back (with this parser) to the
//     same files: filename, sha256, requires-python, yanked and its reason, metadata (JSON
//     text that was not UTF-8 comes back as UTF-8).
#include <cstdint>
#include <set>
#include <string>
#include <string_view>

#include "core/escape.h"
#include "fuzz/fuzz_check.h"
#include "fuzz/fuzz_input.h"
#include "upstream/project_page.h"
#include "upstream/simple_parse.h"
#include "upstream/url_policy.h"

namespace {

using pipy::fuzz::Check;
using pipy::upstream::UpstreamFile;
using pipy::upstream::UpstreamProject;

constexpr std::string_view kPageUrl = "https://up.example/simple/foo/";
constexpr std::string_view kName = "foo";

// JSON pages carry text as UTF-8 only (the renderer writes U+FFFD for a broken sequence),
// so there a value that was not UTF-8 must only come back as UTF-8.
bool SameText(std::string_view served, std::string_view parsed, bool json) {
  if (json && !pipy::IsValidUtf8(served)) {
    return pipy::IsValidUtf8(parsed);
  }
  return served == parsed;
}

bool SameFile(const UpstreamFile& a, const UpstreamFile& b, bool json) {
  return a.filename == b.filename && a.sha256 == b.sha256 &&
         SameText(a.requires_python, b.requires_python, json) && a.yanked == b.yanked &&
         SameText(a.yanked_reason, b.yanked_reason, json) && a.has_metadata == b.has_metadata &&
         a.metadata_sha256 == b.metadata_sha256;
}

void CheckSameFiles(const UpstreamProject& served, const UpstreamProject& parsed, bool json,
                    const char* what) {
  Check(parsed.files.size() == served.files.size(), what);
  for (std::size_t i = 0; i < served.files.size(); ++i) {
    Check(SameFile(served.files[i], parsed.files[i], json), what);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) {
    return 0;
  }
  static const auto policy = pipy::upstream::UrlPolicy::Create(
      "https://up.example/simple/", {"files.example"});
  Check(policy.has_value(), "the policy is valid");
  std::string_view page = pipy::fuzz::AsText(data + 1, size - 1);
  UpstreamProject project;
  if (data[0] & 1) {
    auto json = pipy::upstream::ParseProjectJson(page, kPageUrl, kName);
    if (!json.has_value()) {
      return 0;
    }
    project = std::move(*json);
  } else {
    project = pipy::upstream::ParseProjectHtml(page, kPageUrl, kName);
  }
  Check(project.name == kName, "the project name is the one asked for");
  for (const UpstreamFile& f : project.files) {
    Check(f.url.find('#') == std::string::npos, "no fragment in a URL");
  }
  UpstreamProject served = pipy::upstream::SelectServable(project, *policy);
  std::set<std::string> names;
  for (const UpstreamFile& f : served.files) {
    Check(pipy::upstream::IsSha256Hex(f.sha256), "a served file has a sha256");
    Check(pipy::upstream::ProjectOfFilename(f.filename) == kName, "a served file is foo's");
    Check(policy->Check(f.url).ok(), "a served URL passes the policy");
    Check(names.insert(f.filename).second, "a filename is served once");
    Check(f.metadata_sha256.empty() || pipy::upstream::IsSha256Hex(f.metadata_sha256),
          "served metadata has a sha256");
    Check(f.has_metadata || f.metadata_sha256.empty(), "no metadata hash without metadata");
  }
  const std::string own_url = "http://pipy.test/simple/foo/";
  UpstreamProject html = pipy::upstream::ParseProjectHtml(
      pipy::upstream::RenderProjectHtml(served), own_url, kName);
  CheckSameFiles(served, html, false, "Pipy's HTML page parses back to the served files");
  auto json = pipy::upstream::ParseProjectJson(pipy::upstream::RenderProjectJson(served),
                                               own_url, kName);
  Check(json.has_value(), "Pipy's JSON page parses");
  CheckSameFiles(served, *json, true, "Pipy's JSON page parses back to the served files");
  return 0;
}
