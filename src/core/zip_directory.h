// Checking a zip's central directory from its raw bytes (APPNOTE 4.3.12-4.3.16, zip64
// included) BEFORE libarchive opens the file. libarchive's seekable zip reader loads the
// whole central directory into memory (one allocation per entry) on its first header, so
// an entry cap counted through libarchive comes too late: a wheel of 3,000,000 tiny entries
// would cost hundreds of MB first. This walk reads the directory through a fixed window
// and allocates nothing per entry.
//
// The walk covers exactly the bytes libarchive 3.6 walks (it starts at the end record's
// central-directory offset and reads entries until an end signature), because the
// directory must end where the end record is: what is checked here is what libarchive,
// pip (zipfile walks the declared size) and unzip (the declared count) read.
// Used by safe_archive.cc; thread-safe (pread only).
#pragma once

#include "core/safe_archive.h"
#include "core/status.h"

namespace pipy::archive {

// Returns OK when the zip open on `fd` has a well-formed single-disk central directory
// within `limits`. kInvalidArgument, naming the member where there is one, when:
//  - there is no end record, the zip64 locator or record is malformed, the archive spans
//    disks, or the directory does not end right where the end (or zip64 end) record starts
//    (this also refuses data prepended to the zip);
//  - the end record lists more than limits.max_entries entries, or the directory is larger
//    than limits.max_central_directory_bytes (both checked before the walk), or the walk
//    finds more than max_entries entries, or another count than the end record lists;
//  - an entry's external attributes carry a Unix file type other than regular file or
//    directory (symlinks, devices, fifos, sockets), whatever the "made by" system;
//  - an entry declares more than limits.max_member_bytes uncompressed (zip64 extra read);
//  - `strict_names` and a raw name holds a NUL or a backslash (PEP 427 names are UTF-8
//    with "/"; libarchive cuts names at a NUL and turns "\" into "/", so only the raw
//    bytes show it).
Status CheckZipCentralDirectory(int fd, const Limits& limits, bool strict_names);

}  // namespace pipy::archive
