// The on-disk layout of a FilesystemBlobStore, in one place (like the Docker registry's
// registry/storage/paths.go):
//
//   <root>/blobs/<k[0:2]>/<k>   a committed blob; k is the sha256 hex of its bytes
//   <root>/tmp/<random>         a blob being written; renamed into blobs/ on commit
//
// One level of 256 buckets, all created when the store is opened: an upload never pays for
// creating (and fsyncing) a folder, and ext4's hashed directories stay fast with millions
// of blobs (git's objects/ uses the same shape). Every function here takes a key already
// checked with IsValidKey, so no path can leave the root.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace pipy::storage {

// <root>/blobs: the committed blobs.
std::filesystem::path BlobsDir(const std::filesystem::path& root);
// <root>/tmp: blobs being written. Lives beside blobs/ on the same file system, so a
// rename(2) from here into blobs/ is atomic.
std::filesystem::path TempDir(const std::filesystem::path& root);
// <root>/blobs/<k[0:2]>: the folder holding `key`. Precondition: IsValidKey(key).
std::filesystem::path BlobDir(const std::filesystem::path& root, std::string_view key);
// <root>/blobs/<k[0:2]>/<key>. Precondition: IsValidKey(key).
std::filesystem::path BlobPath(const std::filesystem::path& root, std::string_view key);
// Every bucket folder name, "00" to "ff".
std::vector<std::string> BucketNames();

}  // namespace pipy::storage
