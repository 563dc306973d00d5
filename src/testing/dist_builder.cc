#include "testing/dist_builder.h"

#include <archive.h>
#include <archive_entry.h>

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace pipy::testing {

void WriteArchive(const std::filesystem::path& path, bool zip,
                  const std::vector<ArchiveMember>& members) {
  archive* a = archive_write_new();
  if (zip) {
    archive_write_set_format_zip(a);
  } else {
    archive_write_add_filter_gzip(a);
    archive_write_set_format_pax_restricted(a);
  }
  if (archive_write_open_filename(a, path.c_str()) != ARCHIVE_OK) {
    throw std::runtime_error(archive_error_string(a));
  }
  for (const auto& member : members) {
    archive_entry* entry = archive_entry_new();
    archive_entry_set_pathname(entry, member.path.c_str());
    archive_entry_set_size(entry, static_cast<la_int64_t>(member.data.size()));
    archive_entry_set_filetype(entry, AE_IFREG);
    archive_entry_set_perm(entry, 0644);
    archive_write_header(a, entry);
    archive_write_data(a, member.data.data(), member.data.size());
    archive_entry_free(entry);
  }
  archive_write_close(a);
  archive_write_free(a);
}

std::string EscapeDistName(const std::string& name) {
  std::string out;
  for (char c : name) {
    bool sep = c == '-' || c == '_' || c == '.';
    if (sep) {
      if (out.empty() || out.back() != '_') {
        out.push_back('_');
      }
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string CoreMetadataText(const std::string& name, const std::string& version,
                             const std::string& extra_headers, const std::string& readme) {
  return "Metadata-Version: 2.1\nName: " + name + "\nVersion: " + version +
         "\nSummary: A test package\nDescription-Content-Type: text/markdown\n" + extra_headers +
         "\n" + readme;
}

std::filesystem::path MakeWheel(const std::filesystem::path& dir, const std::string& name,
                                const std::string& version, const std::string& metadata,
                                const std::string& salt) {
  std::string escaped = EscapeDistName(name);
  std::string dist_info = escaped + "-" + version + ".dist-info/";
  std::vector<ArchiveMember> members = {
      {escaped + "/__init__.py", "VALUE = '" + version + salt + "'\n"},
      {dist_info + "METADATA", metadata.empty() ? CoreMetadataText(name, version) : metadata},
      {dist_info + "WHEEL", "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"},
      {dist_info + "RECORD", ""},
  };
  auto path = dir / (escaped + "-" + version + "-py3-none-any.whl");
  WriteArchive(path, true, members);
  return path;
}

std::filesystem::path MakeSdist(const std::filesystem::path& dir, const std::string& name,
                                const std::string& version) {
  std::string escaped = EscapeDistName(name);
  std::string top = escaped + "-" + version + "/";
  std::vector<ArchiveMember> members = {
      {top + "PKG-INFO", CoreMetadataText(name, version)},
      {top + "pyproject.toml", "[build-system]\nrequires = [\"setuptools\"]\n"},
      {top + escaped + "/__init__.py", "VALUE = 1\n"},
  };
  auto path = dir / (escaped + "-" + version + ".tar.gz");
  WriteArchive(path, false, members);
  return path;
}

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace pipy::testing
