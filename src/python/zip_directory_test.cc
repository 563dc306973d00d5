// Central-directory checks, on zips written byte by byte so the end record can lie, and
// what the wheel and sdist readers make of them.
#include "core/zip_directory.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "python/distribution.h"
#include "testing/temp_dir.h"

namespace pipy::python {
namespace {

namespace fs = std::filesystem;

constexpr std::uint32_t kRegular = 0100644u << 16;

struct RawEntry {
  RawEntry(std::string name, std::string data, std::uint32_t external = kRegular,
           std::uint8_t made_by = 3, std::optional<std::uint64_t> declared_size = std::nullopt,
           bool zip64_size = false)
      : name(std::move(name)),
        data(std::move(data)),
        external(external),
        made_by(made_by),
        declared_size(declared_size),
        zip64_size(zip64_size) {}

  std::string name;
  std::string data;
  std::uint32_t external;                      // Unix mode in the upper 16 bits
  std::uint8_t made_by;                        // 3: Unix, 0: MS-DOS
  std::optional<std::uint64_t> declared_size;  // overrides the size written
  bool zip64_size;                             // the size goes in a zip64 extra field
};

// How the end records describe the directory; unset fields tell the truth.
struct EndRecord {
  bool zip64 = false;
  std::optional<std::uint64_t> entries;
  std::optional<std::uint64_t> cd_size;
  std::optional<std::uint64_t> cd_offset;
  std::string prefix;  // bytes before the zip (offsets not adjusted)
};

void Put(std::string& out, std::uint64_t v, int n) {
  for (int i = 0; i < n; ++i) {
    out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
  }
}

std::uint32_t Crc(const std::string& data) {
  return static_cast<std::uint32_t>(
      crc32(0, reinterpret_cast<const Bytef*>(data.data()), static_cast<uInt>(data.size())));
}

// A stored (uncompressed) zip of `entries`, with the end records `end` describes.
std::string BuildZip(const std::vector<RawEntry>& entries, const EndRecord& end = {}) {
  std::string out = end.prefix;
  std::vector<std::uint64_t> offsets;
  for (const RawEntry& e : entries) {
    offsets.push_back(out.size() - end.prefix.size());
    out += "PK\x03\x04";
    Put(out, 20, 2);    // version needed
    Put(out, 0, 2);     // flags
    Put(out, 0, 2);     // stored
    Put(out, 0, 2);     // time
    Put(out, 0x21, 2);  // date
    Put(out, Crc(e.data), 4);
    Put(out, e.data.size(), 4);
    Put(out, e.data.size(), 4);
    Put(out, e.name.size(), 2);
    Put(out, 0, 2);
    out += e.name;
    out += e.data;
  }
  const std::uint64_t cd_offset = out.size() - end.prefix.size();
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const RawEntry& e = entries[i];
    std::uint64_t size = e.declared_size.value_or(e.data.size());
    std::string extra;
    if (e.zip64_size) {
      Put(extra, 0x0001, 2);
      Put(extra, 8, 2);
      Put(extra, size, 8);
    }
    out += "PK\x01\x02";
    Put(out, (std::uint64_t{e.made_by} << 8) | 20, 2);
    Put(out, 20, 2);
    Put(out, 0, 2);
    Put(out, 0, 2);
    Put(out, 0, 2);
    Put(out, 0x21, 2);
    Put(out, Crc(e.data), 4);
    Put(out, e.data.size(), 4);
    Put(out, e.zip64_size ? 0xFFFFFFFF : size, 4);
    Put(out, e.name.size(), 2);
    Put(out, extra.size(), 2);
    Put(out, 0, 2);  // comment
    Put(out, 0, 2);  // disk
    Put(out, 0, 2);  // internal attributes
    Put(out, e.external, 4);
    Put(out, offsets[i], 4);
    out += e.name;
    out += extra;
  }
  const std::uint64_t cd_size = out.size() - end.prefix.size() - cd_offset;
  const std::uint64_t count = end.entries.value_or(entries.size());
  const std::uint64_t size = end.cd_size.value_or(cd_size);
  const std::uint64_t offset = end.cd_offset.value_or(cd_offset);
  if (end.zip64) {
    const std::uint64_t record = out.size() - end.prefix.size();
    out += "PK\x06\x06";
    Put(out, 44, 8);
    Put(out, 45, 2);
    Put(out, 45, 2);
    Put(out, 0, 4);
    Put(out, 0, 4);
    Put(out, count, 8);
    Put(out, count, 8);
    Put(out, size, 8);
    Put(out, offset, 8);
    out += "PK\x06\x07";
    Put(out, 0, 4);
    Put(out, record, 8);
    Put(out, 1, 4);
  }
  out += "PK\x05\x06";
  Put(out, 0, 2);
  Put(out, 0, 2);
  Put(out, end.zip64 ? 0xFFFF : count, 2);
  Put(out, end.zip64 ? 0xFFFF : count, 2);
  Put(out, end.zip64 ? 0xFFFFFFFF : size, 4);
  Put(out, end.zip64 ? 0xFFFFFFFF : offset, 4);
  Put(out, 0, 2);
  return out;
}

const std::string kMetadata = "Metadata-Version: 2.1\nName: acme-logger\nVersion: 1.0\n";

std::vector<RawEntry> WheelEntries(int extra_modules = 0) {
  std::vector<RawEntry> e = {{"acme_logger/__init__.py", "print('hi')\n"},
                             {"acme_logger-1.0.dist-info/METADATA", kMetadata},
                             {"acme_logger-1.0.dist-info/WHEEL", "Wheel-Version: 1.0\n"},
                             {"acme_logger-1.0.dist-info/RECORD", ""}};
  for (int i = 0; i < extra_modules; ++i) {
    e.push_back({"acme_logger/m" + std::to_string(i) + ".py", ""});
  }
  return e;
}

class ZipDirectoryTest : public ::testing::Test {
 protected:
  fs::path Write(const std::string& bytes, const std::string& name = "t.whl") {
    fs::path p = tmp_.path() / name;
    std::ofstream(p, std::ios::binary)
        .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    return p;
  }

  // CheckZipCentralDirectory on `bytes` as a wheel.
  Status Check(const std::string& bytes, const archive::Limits& limits = {}, bool wheel = true) {
    fs::path p = Write(bytes);
    int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
    EXPECT_GE(fd, 0);
    Status s = archive::CheckZipCentralDirectory(fd, limits, wheel);
    ::close(fd);
    return s;
  }

  void ExpectRefused(const Status& s, const std::string& needle) {
    ASSERT_FALSE(s.ok()) << "accepted; expected: " << needle;
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
    EXPECT_NE(s.message().find(needle), std::string::npos) << s.message();
  }

  pipy::testing::TempDir tmp_{"pipy-zipdir"};
};

TEST_F(ZipDirectoryTest, HonestZipsPassAndLibarchiveReadsThem) {
  for (bool zip64 : {false, true}) {
    EndRecord end;
    end.zip64 = zip64;
    std::string bytes = BuildZip(WheelEntries(3), end);
    EXPECT_TRUE(Check(bytes).ok()) << Check(bytes).ToString();
    auto r = ReadWheelMetadata(Write(bytes));
    ASSERT_TRUE(r.has_value()) << "zip64=" << zip64 << ": " << r.error().ToString();
    EXPECT_EQ(*r, kMetadata);
  }
}

TEST_F(ZipDirectoryTest, EntryCountInTheEndRecordIsCheckedBeforeTheWalk) {
  // The record claims 60,000 entries (its 16-bit field's range); the directory holds four.
  // Refused from the record alone (the message quotes it), never walked.
  EndRecord end;
  end.entries = 60'000;
  archive::Limits limits;
  limits.max_entries = 1000;
  ExpectRefused(Check(BuildZip(WheelEntries(), end), limits),
                "archive has more than 1000 members (its end record lists 60000)");
  limits.max_entries = 3;
  ExpectRefused(Check(BuildZip(WheelEntries()), limits), "more than 3 members");
}

TEST_F(ZipDirectoryTest, Zip64EntryCountIsCheckedToo) {
  EndRecord end;
  end.zip64 = true;
  end.entries = std::uint64_t{1} << 40;
  ExpectRefused(Check(BuildZip(WheelEntries(), end)), "its end record lists 1099511627776");
  ExpectRefused(ReadWheelMetadata(Write(BuildZip(WheelEntries(), end))).error(),
                "more than 100000 members");
}

TEST_F(ZipDirectoryTest, EndRecordThatUndercountsIsCaughtByTheWalk) {
  EndRecord end;
  end.entries = 5;
  std::string bytes = BuildZip(WheelEntries(30), end);
  archive::Limits limits;
  limits.max_entries = 10;
  ExpectRefused(Check(bytes, limits), "more than 10 members (its end record lists 5)");
  // Within the limit, the mismatch itself is refused.
  ExpectRefused(Check(bytes), "the end record lists 5 members but the central directory holds 34");
  ExpectRefused(ReadWheelMetadata(Write(bytes)).error(), "holds 34");
}

TEST_F(ZipDirectoryTest, UndercountingFloodIsRefusedAtTheLimit) {
  // 150,000 entries behind an end record that says 5: the walk, not libarchive, counts.
  std::vector<RawEntry> many;
  many.reserve(150'000);
  for (int i = 0; i < 150'000; ++i) {
    many.push_back({std::to_string(i), ""});
  }
  EndRecord end;
  end.entries = 5;
  ExpectRefused(ReadWheelMetadata(Write(BuildZip(many, end))).error(),
                "archive has more than 100000 members");
}

TEST_F(ZipDirectoryTest, CentralDirectorySizeIsCapped) {
  std::string bytes = BuildZip(WheelEntries(30));
  archive::Limits limits;
  limits.max_central_directory_bytes = 1000;
  ExpectRefused(Check(bytes, limits), "is larger than the limit of 1000 bytes");
  EXPECT_TRUE(Check(bytes).ok());
  // A record claiming a huge directory is refused from the record.
  EndRecord end;
  end.zip64 = true;
  end.cd_size = std::uint64_t{1} << 36;
  ExpectRefused(Check(BuildZip(WheelEntries(), end)),
                "zip central directory of 68719476736 bytes is larger than the limit of 67108864");
}

TEST_F(ZipDirectoryTest, DirectoryMustEndAtTheEndRecord) {
  // libarchive starts at the recorded offset; zipfile at end - size. A record where these
  // differ would let the two read different entries.
  EndRecord wrong_offset;
  wrong_offset.cd_offset = 0;
  ExpectRefused(Check(BuildZip(WheelEntries(), wrong_offset)),
                "central directory is not where the end record says");
  EndRecord short_size;
  short_size.cd_size = 46;
  ExpectRefused(Check(BuildZip(WheelEntries(), short_size)), "not where the end record says");
  EndRecord prefixed;
  prefixed.prefix = std::string(100, '#');
  ExpectRefused(Check(BuildZip(WheelEntries(), prefixed)), "not where the end record says");
}

TEST_F(ZipDirectoryTest, MalformedEndRecordsAreRefused) {
  EndRecord zip64;
  zip64.zip64 = true;
  std::string bytes = BuildZip(WheelEntries(), zip64);
  std::string bad_locator = bytes;
  bad_locator[bad_locator.size() - 22 - 4] = 2;  // total disks: 2
  ExpectRefused(Check(bad_locator), "zip64 locator");
  ExpectRefused(Check("PK\x03\x04 not really a zip"), "no end of central directory record");
  ExpectRefused(Check(std::string(10, 'x')), "not a valid zip archive");
}

TEST_F(ZipDirectoryTest, SymlinkEntriesAreRefusedWhateverTheHost) {
  for (std::uint8_t host : {std::uint8_t{3}, std::uint8_t{0}, std::uint8_t{19}}) {
    auto entries = WheelEntries();
    entries.push_back({"acme_logger/evil.py", "../../../etc/passwd", 0120777u << 16, host});
    ExpectRefused(Check(BuildZip(entries)),
                  "archive member is a symbolic link: acme_logger/evil.py");
  }
  auto sdist = std::vector<RawEntry>{{"acme_logger-1.0/PKG-INFO", kMetadata},
                                     {"acme_logger-1.0/link", "/etc", 0120755u << 16}};
  fs::path p = Write(BuildZip(sdist), "s.zip");
  auto r = ReadSdistPkgInfo(p, /*zip=*/true);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("symbolic link: acme_logger-1.0/link"), std::string::npos)
      << r.error().message();
}

TEST_F(ZipDirectoryTest, DevicesAndFifosAreRefused) {
  for (std::uint32_t type : {0010000u, 0020000u, 0060000u, 0140000u}) {  // fifo chr blk sock
    auto entries = WheelEntries();
    entries.push_back({"acme_logger/dev", "", (type | 0644u) << 16});
    ExpectRefused(Check(BuildZip(entries)),
                  "archive member is not a regular file or directory: acme_logger/dev");
  }
}

TEST_F(ZipDirectoryTest, RegularDirectoryAndTypelessEntriesPass) {
  auto entries = WheelEntries();
  entries.push_back({"acme_logger/sub/", "", 0040755u << 16});
  entries.push_back({"acme_logger/plain.py", "", 0644u << 16});  // Python's writestr default
  entries.push_back({"acme_logger/dos.py", "", 0x20, 0});        // MS-DOS archive bit
  std::string bytes = BuildZip(entries);
  EXPECT_TRUE(Check(bytes).ok()) << Check(bytes).ToString();
  EXPECT_TRUE(ReadWheelMetadata(Write(bytes)).has_value());
}

TEST_F(ZipDirectoryTest, DeclaredMemberSizeIsCapped) {
  auto entries = WheelEntries();
  entries.push_back({"acme_logger/bomb.bin", "", kRegular, 3, std::uint64_t{3} << 30});
  ExpectRefused(Check(BuildZip(entries)),
                "archive member acme_logger/bomb.bin declares 3221225472 bytes, more than the "
                "limit of 2147483648 bytes per member");
  auto zip64 = WheelEntries();
  zip64.push_back({"acme_logger/bomb.bin", "", kRegular, 3, std::uint64_t{1} << 40, true});
  ExpectRefused(Check(BuildZip(zip64)), "declares 1099511627776 bytes");
  // A zip64 extra with a small size is fine.
  auto small = WheelEntries();
  small.push_back({"acme_logger/small.bin", "", kRegular, 3, 0, true});
  EXPECT_TRUE(Check(BuildZip(small)).ok()) << Check(BuildZip(small)).ToString();
  archive::Limits limits;
  limits.max_member_bytes = 10;
  ExpectRefused(Check(BuildZip(WheelEntries()), limits),
                "acme_logger/__init__.py declares 12 bytes");
}

TEST_F(ZipDirectoryTest, RawNamesAreCheckedOnlyForWheels) {
  auto entries = WheelEntries();
  entries.push_back({std::string("acme_logger/a\0b.py", 18), ""});
  ExpectRefused(Check(BuildZip(entries)), "NUL or backslash: acme_logger/a?b.py");
  auto sdist = std::vector<RawEntry>{{"acme_logger-1.0\\PKG-INFO", kMetadata}};
  EXPECT_TRUE(Check(BuildZip(sdist), {}, /*wheel=*/false).ok());
  ExpectRefused(Check(BuildZip(sdist), {}, /*wheel=*/true), "backslash");
}

}  // namespace
}  // namespace pipy::python
