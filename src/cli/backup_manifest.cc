#include "cli/backup_manifest.h"

#include <charconv>
#include <map>
#include <sstream>

#include "storage/blob_store.h"

namespace pipy::cli {

namespace {

constexpr std::string_view kMagic = "pipy-backup";

template <typename T>
Result<T> ParseNumber(const std::map<std::string, std::string, std::less<>>& fields,
                      std::string_view key) {
  auto it = fields.find(key);
  if (it == fields.end()) {
    return InvalidArgument("manifest has no " + std::string(key));
  }
  T value{};
  const std::string& text = it->second;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) {
    return InvalidArgument("manifest " + std::string(key) + " is not a number: " + text);
  }
  return value;
}

}  // namespace

std::string FormatManifest(const BackupManifest& manifest) {
  std::ostringstream out;
  out << kMagic << " " << manifest.format_version << "\n"
      << "created_unix " << manifest.created_unix << "\n"
      << "files " << manifest.files << "\n"
      << "blobs " << manifest.blobs << "\n"
      << "blob_bytes " << manifest.blob_bytes << "\n"
      << "catalog_sha256 " << manifest.catalog_sha256 << "\n";
  return out.str();
}

Result<BackupManifest> ParseManifest(std::string_view text) {
  std::map<std::string, std::string, std::less<>> fields;
  std::string first_key;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t eol = text.find('\n', pos);
    std::string_view line =
        text.substr(pos, eol == std::string_view::npos ? std::string_view::npos : eol - pos);
    pos = eol == std::string_view::npos ? text.size() : eol + 1;
    if (line.empty()) {
      continue;
    }
    std::size_t space = line.find(' ');
    if (space == std::string_view::npos) {
      return InvalidArgument("manifest line without a value: " + std::string(line));
    }
    std::string key(line.substr(0, space));
    if (first_key.empty()) {
      first_key = key;
    }
    fields.emplace(std::move(key), std::string(line.substr(space + 1)));
  }
  if (first_key != kMagic) {
    return InvalidArgument("not a pipy backup manifest");
  }
  BackupManifest manifest;
  PIPY_ASSIGN_OR_RETURN(manifest.format_version, ParseNumber<int>(fields, kMagic));
  if (manifest.format_version < 1 || manifest.format_version > kBackupFormatVersion) {
    return InvalidArgument("backup format " + std::to_string(manifest.format_version) +
                           " is not one this Pipy reads (up to " +
                           std::to_string(kBackupFormatVersion) + "); use a newer Pipy");
  }
  PIPY_ASSIGN_OR_RETURN(manifest.created_unix, ParseNumber<std::int64_t>(fields, "created_unix"));
  PIPY_ASSIGN_OR_RETURN(manifest.files, ParseNumber<std::uint64_t>(fields, "files"));
  PIPY_ASSIGN_OR_RETURN(manifest.blobs, ParseNumber<std::uint64_t>(fields, "blobs"));
  PIPY_ASSIGN_OR_RETURN(manifest.blob_bytes, ParseNumber<std::uint64_t>(fields, "blob_bytes"));
  auto sha = fields.find("catalog_sha256");
  if (sha == fields.end() || !storage::IsValidKey(sha->second)) {
    return InvalidArgument("manifest has no valid catalog_sha256");
  }
  manifest.catalog_sha256 = sha->second;
  return manifest;
}

}  // namespace pipy::cli
