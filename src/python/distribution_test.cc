#include "python/distribution.h"

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>
#include <sys/sysmacros.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "testing/temp_dir.h"

namespace pipy::python {
namespace {

namespace fs = std::filesystem;

struct Member {
  std::string name;
  std::string data;
  bool dir = false;
  unsigned type = 0;       // an AE_IF* file type other than a file or folder
  std::string link = "";   // symlink target (type AE_IFLNK) or hard link target
};

const std::string kMetadata = "Metadata-Version: 2.1\nName: acme-logger\nVersion: 1.0\n";

enum class Format { kZip, kTarGz, kTar };

// Writes `members` as a real archive with libarchive's write API.
void WriteArchive(const fs::path& path, Format format, const std::vector<Member>& members) {
  ::archive* a = archive_write_new();
  ASSERT_NE(a, nullptr);
  if (format == Format::kZip) {
    ASSERT_EQ(archive_write_set_format_zip(a), ARCHIVE_OK);
  } else {
    ASSERT_EQ(archive_write_set_format_pax_restricted(a), ARCHIVE_OK);
    if (format == Format::kTarGz) {
      ASSERT_EQ(archive_write_add_filter_gzip(a), ARCHIVE_OK);
    }
  }
  if (format == Format::kZip) {
    // Marks names as UTF-8 (general purpose bit 11), as Python's zipfile does.
    ASSERT_EQ(archive_write_set_options(a, "hdrcharset=UTF-8"), ARCHIVE_OK);
  }
  ASSERT_EQ(archive_write_open_filename(a, path.c_str()), ARCHIVE_OK) << archive_error_string(a);
  for (const Member& m : members) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname_utf8(e, m.name.c_str());
    archive_entry_set_filetype(e, m.type != 0 ? m.type : m.dir ? AE_IFDIR : AE_IFREG);
    archive_entry_set_perm(e, m.dir ? 0755 : 0644);
    archive_entry_set_size(e, m.dir ? 0 : static_cast<la_int64_t>(m.data.size()));
    if (m.type == AE_IFLNK) {
      archive_entry_set_symlink(e, m.link.c_str());
    } else if (!m.link.empty()) {
      archive_entry_set_hardlink(e, m.link.c_str());
      archive_entry_set_size(e, 0);
    }
    if (m.type == AE_IFCHR || m.type == AE_IFBLK) {
      archive_entry_set_rdev(e, makedev(1, 3));
    }
    ASSERT_EQ(archive_write_header(a, e), ARCHIVE_OK) << archive_error_string(a);
    if (!m.dir && m.type == 0 && m.link.empty() && !m.data.empty()) {
      ASSERT_EQ(archive_write_data(a, m.data.data(), m.data.size()),
                static_cast<la_ssize_t>(m.data.size()));
    }
    archive_entry_free(e);
  }
  ASSERT_EQ(archive_write_close(a), ARCHIVE_OK);
  archive_write_free(a);
}

std::string ReadAll(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void WriteAll(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::vector<Member> GoodWheelMembers() {
  return {{"acme_logger/__init__.py", "print('hi')\n"},
          {"acme_logger-1.0.dist-info/METADATA", kMetadata},
          {"acme_logger-1.0.dist-info/WHEEL", "Wheel-Version: 1.0\n"},
          {"acme_logger-1.0.dist-info/RECORD", ""}};
}

class DistributionTest : public ::testing::Test {
 protected:
  fs::path Make(const std::string& name, Format format, const std::vector<Member>& members) {
    fs::path p = tmp_.path() / name;
    WriteArchive(p, format, members);
    return p;
  }

  // Expects an InvalidArgument error whose message contains `needle`.
  template <typename T>
  void ExpectInvalid(const Result<T>& r, const std::string& needle) {
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code(), StatusCode::kInvalidArgument) << r.error().ToString();
    EXPECT_NE(r.error().message().find(needle), std::string::npos) << r.error().message();
  }

  pipy::testing::TempDir tmp_{"pipy-dist"};
};

TEST_F(DistributionTest, GoodWheelReturnsMetadata) {
  auto r = ReadWheelMetadata(Make("good.whl", Format::kZip, GoodWheelMembers()));
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(*r, kMetadata);
}

TEST_F(DistributionTest, WheelWithDirectoryEntriesIsFine) {
  auto members = GoodWheelMembers();
  members.insert(members.begin(), {"acme_logger-1.0.dist-info/", "", true});
  auto r = ReadWheelMetadata(Make("dirs.whl", Format::kZip, members));
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(*r, kMetadata);
}

TEST_F(DistributionTest, WheelWithoutMetadataIsRefused) {
  fs::path p = Make("nometa.whl", Format::kZip,
                    {{"acme_logger/__init__.py", ""}, {"acme_logger-1.0.dist-info/RECORD", ""}});
  ExpectInvalid(ReadWheelMetadata(p), "wheel has no .dist-info/METADATA");
}

TEST_F(DistributionTest, NestedDistInfoDoesNotCount) {
  fs::path p = Make("nested.whl", Format::kZip,
                    {{"acme_logger/_vendor/six-1.0.dist-info/METADATA", kMetadata}});
  ExpectInvalid(ReadWheelMetadata(p), "wheel has no .dist-info/METADATA");
}

TEST_F(DistributionTest, TwoDistInfoDirectoriesAreRefused) {
  auto members = GoodWheelMembers();
  members.push_back({"other-2.0.dist-info/METADATA", kMetadata});
  ExpectInvalid(ReadWheelMetadata(Make("two.whl", Format::kZip, members)),
                "more than one .dist-info directory");
}

TEST_F(DistributionTest, SecondDistInfoWithoutMetadataIsRefusedToo) {
  auto members = GoodWheelMembers();
  members.push_back({"other-2.0.dist-info/RECORD", ""});
  ExpectInvalid(ReadWheelMetadata(Make("two.whl", Format::kZip, members)),
                "more than one .dist-info directory");
}

TEST_F(DistributionTest, DotDotMemberIsRefused) {
  auto members = GoodWheelMembers();
  members.push_back({"../evil", "x"});
  ExpectInvalid(ReadWheelMetadata(Make("dotdot.whl", Format::kZip, members)), "'..'");
}

TEST_F(DistributionTest, DotDotInsideThePathIsRefused) {
  auto members = GoodWheelMembers();
  members.push_back({"acme_logger/../../evil", "x"});
  ExpectInvalid(ReadWheelMetadata(Make("dotdot2.whl", Format::kZip, members)), "'..'");
}

TEST_F(DistributionTest, AbsoluteMemberIsRefused) {
  auto members = GoodWheelMembers();
  members.push_back({"/etc/evil", "x"});
  ExpectInvalid(ReadWheelMetadata(Make("abs.whl", Format::kZip, members)), "absolute path");
}

TEST_F(DistributionTest, BackslashInWheelMemberIsRefused) {
  auto members = GoodWheelMembers();
  members.push_back({"acme_logger\\evil.py", "x"});
  ExpectInvalid(ReadWheelMetadata(Make("bs.whl", Format::kZip, members)), "backslash");
}

TEST_F(DistributionTest, NulInWheelMemberIsRefused) {
  // libarchive cannot write a NUL in a name; patch one into both copies of the name.
  auto members = GoodWheelMembers();
  members.push_back({"acme_logger/evilXZY.py", "x"});
  fs::path p = Make("nul.whl", Format::kZip, members);
  std::string bytes = ReadAll(p);
  int patched = 0;
  for (std::size_t at = bytes.find("XZY"); at != std::string::npos; at = bytes.find("XZY")) {
    bytes[at] = '\0';
    ++patched;
  }
  ASSERT_EQ(patched, 2);  // local header and central directory
  WriteAll(p, bytes);
  ExpectInvalid(ReadWheelMetadata(p), "NUL");
}

TEST_F(DistributionTest, NonAsciiMemberNamesAreFine) {
  auto members = GoodWheelMembers();
  members.push_back({"acme_logger/caf\xc3\xa9.py", "x"});
  members.push_back({"acme_logger/\xe6\x97\xa5\xe6\x9c\xac.txt", "y"});
  auto r = ReadWheelMetadata(Make("utf8.whl", Format::kZip, members));
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(*r, kMetadata);
}

TEST_F(DistributionTest, TruncatedWheelIsRefused) {
  auto members = GoodWheelMembers();
  members.push_back({"acme_logger/big.py", std::string(50'000, 'x')});
  fs::path p = Make("cut.whl", Format::kZip, members);
  std::string bytes = ReadAll(p);
  WriteAll(p, bytes.substr(0, bytes.size() / 2));
  ExpectInvalid(ReadWheelMetadata(p), "not a valid zip archive");
}

TEST_F(DistributionTest, RandomBytesAreNotAWheel) {
  std::mt19937 rng(42);
  std::string bytes(4096, '\0');
  for (char& c : bytes) {
    c = static_cast<char>(rng());
  }
  fs::path p = tmp_.path() / "random.whl";
  WriteAll(p, bytes);
  ExpectInvalid(ReadWheelMetadata(p), "not a valid zip archive");
}

TEST_F(DistributionTest, OversizedMetadataIsRefused) {
  auto members = GoodWheelMembers();
  members[1].data = kMetadata + std::string(10'000, 'A');  // compresses to almost nothing
  fs::path p = Make("bomb.whl", Format::kZip, members);
  DistributionLimits limits;
  limits.max_metadata_bytes = 1000;
  ExpectInvalid(ReadWheelMetadata(p, limits), "METADATA is larger than the limit of 1000 bytes");
  // The same wheel is fine under the default limit: the cap, not the content, refused it.
  EXPECT_TRUE(ReadWheelMetadata(p).has_value());
}

TEST_F(DistributionTest, MetadataExactlyAtTheCapIsAccepted) {
  fs::path p = Make("exact.whl", Format::kZip, GoodWheelMembers());
  DistributionLimits limits;
  limits.max_metadata_bytes = kMetadata.size();
  EXPECT_TRUE(ReadWheelMetadata(p, limits).has_value());
  limits.max_metadata_bytes = kMetadata.size() - 1;
  ExpectInvalid(ReadWheelMetadata(p, limits), "larger than the limit");
}

TEST_F(DistributionTest, TooManyMembersAreRefused) {
  auto members = GoodWheelMembers();
  for (int i = 0; i < 20; ++i) {
    members.push_back({"acme_logger/m" + std::to_string(i) + ".py", ""});
  }
  fs::path p = Make("many.whl", Format::kZip, members);
  DistributionLimits limits;
  limits.archive_limits.max_entries = 10;
  ExpectInvalid(ReadWheelMetadata(p, limits), "more than 10 members");
  EXPECT_TRUE(ReadWheelMetadata(p).has_value());
}

TEST_F(DistributionTest, MissingFileIsAnInternalError) {
  auto r = ReadWheelMetadata(tmp_.path() / "absent.whl");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), StatusCode::kInternal);
}

const std::string kPkgInfo = "Metadata-Version: 2.1\nName: acme-logger\nVersion: 1.0\n";

TEST_F(DistributionTest, GoodSdistReturnsPkgInfo) {
  fs::path p = Make("good.tar.gz", Format::kTarGz,
                    {{"acme_logger-1.0/", "", true},
                     {"acme_logger-1.0/PKG-INFO", kPkgInfo},
                     {"acme_logger-1.0/pyproject.toml", "[project]\n"},
                     {"acme_logger-1.0/src/acme_logger/PKG-INFO", "decoy"}});
  auto r = ReadSdistPkgInfo(p, /*zip=*/false);
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  ASSERT_TRUE(r->has_value());
  EXPECT_EQ(**r, kPkgInfo);
}

TEST_F(DistributionTest, SdistWithoutPkgInfoIsNullopt) {
  fs::path p = Make("nopkg.tar.gz", Format::kTarGz,
                    {{"acme_logger-1.0/pyproject.toml", "[project]\n"},
                     {"acme_logger-1.0/src/PKG-INFO", "not at the top"}});
  auto r = ReadSdistPkgInfo(p, /*zip=*/false);
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_FALSE(r->has_value());
}

TEST_F(DistributionTest, LegacyZipSdistReturnsPkgInfo) {
  fs::path p = Make("legacy.zip", Format::kZip,
                    {{"acme_logger-1.0/setup.py", "from setuptools import setup\n"},
                     {"acme_logger-1.0/PKG-INFO", kPkgInfo}});
  auto r = ReadSdistPkgInfo(p, /*zip=*/true);
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  ASSERT_TRUE(r->has_value());
  EXPECT_EQ(**r, kPkgInfo);
  // A zip is not a tar.gz.
  ExpectInvalid(ReadSdistPkgInfo(p, /*zip=*/false), "not a valid gzip-compressed tar archive");
}

TEST_F(DistributionTest, CorruptGzipIsRefused) {
  // Text whose damaged deflate data still inflates: only the gzip CRC-32 catches it.
  std::mt19937 rng(7);
  std::string noise;
  while (noise.size() < 200'000) {
    noise += "def f" + std::to_string(rng() % 1000) + "(x):\n    return x * " +
             std::to_string(rng() % 97) + "\n";
  }
  fs::path p = Make("corrupt.tar.gz", Format::kTarGz,
                    {{"acme_logger-1.0/PKG-INFO", kPkgInfo}, {"acme_logger-1.0/blob", noise}});
  ASSERT_TRUE(ReadSdistPkgInfo(p, false).has_value());
  std::string bytes = ReadAll(p);
  for (std::size_t i = bytes.size() / 2; i < bytes.size() / 2 + 64; ++i) {
    bytes[i] = static_cast<char>(~bytes[i]);
  }
  WriteAll(p, bytes);
  ExpectInvalid(ReadSdistPkgInfo(p, false), "not a valid gzip-compressed tar archive");
}

TEST_F(DistributionTest, TruncatedGzipIsRefused) {
  std::string noise(100'000, 'z');
  fs::path p = Make("cut.tar.gz", Format::kTarGz,
                    {{"acme_logger-1.0/PKG-INFO", kPkgInfo}, {"acme_logger-1.0/blob", noise}});
  std::string bytes = ReadAll(p);
  WriteAll(p, bytes.substr(0, bytes.size() / 2));
  ExpectInvalid(ReadSdistPkgInfo(p, false), "not a valid gzip-compressed tar archive");
}

TEST_F(DistributionTest, UncompressedTarIsRefused) {
  fs::path p = Make("plain.tar.gz", Format::kTar, {{"acme_logger-1.0/PKG-INFO", kPkgInfo}});
  ExpectInvalid(ReadSdistPkgInfo(p, false), "not a valid gzip-compressed tar archive");
}

TEST_F(DistributionTest, SdistWithUnsafeMembersIsRefused) {
  fs::path dotdot = Make("dotdot.tar.gz", Format::kTarGz,
                         {{"acme_logger-1.0/PKG-INFO", kPkgInfo}, {"acme_logger-1.0/../../x", "x"}});
  ExpectInvalid(ReadSdistPkgInfo(dotdot, false), "'..'");
  fs::path abs = Make("abs.zip", Format::kZip,
                      {{"acme_logger-1.0/PKG-INFO", kPkgInfo}, {"/tmp/x", "x"}});
  ExpectInvalid(ReadSdistPkgInfo(abs, true), "absolute path");
}

TEST_F(DistributionTest, SdistWithTwoTopLevelEntriesIsRefused) {
  fs::path p = Make("two.tar.gz", Format::kTarGz,
                    {{"acme_logger-1.0/PKG-INFO", kPkgInfo}, {"other-2.0/PKG-INFO", kPkgInfo}});
  ExpectInvalid(ReadSdistPkgInfo(p, false), "more than one top-level entry");
}

TEST_F(DistributionTest, OversizedPkgInfoIsRefused) {
  fs::path p = Make("big.tar.gz", Format::kTarGz,
                    {{"acme_logger-1.0/PKG-INFO", kPkgInfo + std::string(5000, 'A')}});
  DistributionLimits limits;
  limits.max_metadata_bytes = 1000;
  ExpectInvalid(ReadSdistPkgInfo(p, false, limits), "PKG-INFO is larger than the limit");
}

TEST_F(DistributionTest, TarBombStopsAtTheUnpackedLimit) {
  fs::path p = Make("bomb.tar.gz", Format::kTarGz,
                    {{"acme_logger-1.0/PKG-INFO", kPkgInfo},
                     {"acme_logger-1.0/zeros", std::string(1'000'000, '\0')}});
  DistributionLimits limits;
  limits.archive_limits.max_unpacked_bytes = 100'000;
  ExpectInvalid(ReadSdistPkgInfo(p, false, limits), "unpacks to more than 100000 bytes");
  EXPECT_TRUE(ReadSdistPkgInfo(p, false).has_value());
}

TEST_F(DistributionTest, DecompressedBytesAreCappedEvenPastTheTarEnd) {
  // A tiny tar followed by a second gzip member of 1 MB of zeros: no tar header declares
  // those bytes, so only the cap on inflated output stops them.
  fs::path p = Make("tail.tar.gz", Format::kTarGz, {{"acme_logger-1.0/PKG-INFO", kPkgInfo}});
  fs::path zeros = tmp_.path() / "zeros.tar.gz";
  WriteArchive(zeros, Format::kTarGz, {{"z", std::string(1'000'000, '\0')}});
  WriteAll(p, ReadAll(p) + ReadAll(zeros));
  DistributionLimits limits;
  limits.archive_limits.max_unpacked_bytes = 200'000;
  ExpectInvalid(ReadSdistPkgInfo(p, false, limits), "unpacks to more than 200000 bytes");
  auto r = ReadSdistPkgInfo(p, false);  // a multi-member gzip is valid (RFC 1952)
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(r->value_or(""), kPkgInfo);
}

TEST_F(DistributionTest, TrailingGarbageAfterGzipIsRefused) {
  fs::path p = Make("garbage.tar.gz", Format::kTarGz, {{"acme_logger-1.0/PKG-INFO", kPkgInfo}});
  WriteAll(p, ReadAll(p) + "this is not gzip");
  ExpectInvalid(ReadSdistPkgInfo(p, false), "not a valid gzip-compressed tar archive");
}

// --- links and special files (B) ---

TEST_F(DistributionTest, TarSymlinkIsRefused) {
  fs::path p = Make("link.tar.gz", Format::kTarGz,
                    {{"acme_logger-1.0/PKG-INFO", kPkgInfo},
                     {"acme_logger-1.0/evil", "", false, AE_IFLNK, "/etc/passwd"}});
  ExpectInvalid(ReadSdistPkgInfo(p, false),
                "archive member is a symbolic link: acme_logger-1.0/evil");
}

TEST_F(DistributionTest, TarHardLinkIsRefused) {
  fs::path p = Make("hard.tar.gz", Format::kTarGz,
                    {{"acme_logger-1.0/PKG-INFO", kPkgInfo},
                     {"acme_logger-1.0/again", "", false, 0, "acme_logger-1.0/PKG-INFO"}});
  ExpectInvalid(ReadSdistPkgInfo(p, false), "archive member is a hard link: acme_logger-1.0/again");
}

TEST_F(DistributionTest, TarDevicesAndFifosAreRefused) {
  for (unsigned type : {AE_IFCHR, AE_IFBLK, AE_IFIFO}) {
    fs::path p = Make("dev.tar.gz", Format::kTarGz,
                      {{"acme_logger-1.0/PKG-INFO", kPkgInfo},
                       {"acme_logger-1.0/dev", "", false, type}});
    ExpectInvalid(ReadSdistPkgInfo(p, false),
                  "archive member is not a regular file or directory: acme_logger-1.0/dev");
  }
}

TEST_F(DistributionTest, LinkNamedPkgInfoIsRefusedToo) {
  fs::path p = Make("pkglink.tar.gz", Format::kTarGz,
                    {{"acme_logger-1.0/PKG-INFO", "", false, AE_IFLNK, "/etc/passwd"}});
  ExpectInvalid(ReadSdistPkgInfo(p, false), "symbolic link: acme_logger-1.0/PKG-INFO");
}

TEST_F(DistributionTest, ZipSymlinkWrittenByLibarchiveIsRefused) {
  auto members = GoodWheelMembers();
  members.push_back({"acme_logger/evil.py", "", false, AE_IFLNK, "../../../../etc/passwd"});
  ExpectInvalid(ReadWheelMetadata(Make("link.whl", Format::kZip, members)),
                "archive member is a symbolic link: acme_logger/evil.py");
  fs::path sdist = Make("link.zip", Format::kZip,
                        {{"acme_logger-1.0/PKG-INFO", kPkgInfo},
                         {"acme_logger-1.0/evil", "", false, AE_IFLNK, "/etc"}});
  ExpectInvalid(ReadSdistPkgInfo(sdist, true), "symbolic link: acme_logger-1.0/evil");
}

TEST_F(DistributionTest, TarMemberSizeIsCapped) {
  fs::path p = Make("big-member.tar.gz", Format::kTarGz,
                    {{"acme_logger-1.0/PKG-INFO", kPkgInfo},
                     {"acme_logger-1.0/data", std::string(5000, 'x')}});
  DistributionLimits limits;
  limits.archive_limits.max_member_bytes = 1000;
  ExpectInvalid(ReadSdistPkgInfo(p, false, limits),
                "archive member acme_logger-1.0/data declares 5000 bytes, more than the limit "
                "of 1000 bytes per member");
  EXPECT_TRUE(ReadSdistPkgInfo(p, false).has_value());
}

TEST_F(DistributionTest, ZipMemberSizeIsCapped) {
  auto members = GoodWheelMembers();
  members.push_back({"acme_logger/data.bin", std::string(5000, 'x')});
  fs::path p = Make("big-member.whl", Format::kZip, members);
  DistributionLimits limits;
  limits.archive_limits.max_member_bytes = 1000;
  ExpectInvalid(ReadWheelMetadata(p, limits), "acme_logger/data.bin declares 5000 bytes");
  EXPECT_TRUE(ReadWheelMetadata(p).has_value());
}

TEST_F(DistributionTest, ZipEntryCountIsCheckedBeforeLibarchiveReadsTheDirectory) {
  // The same wheel as TooManyMembersAreRefused: the message now quotes the end record,
  // which is read before libarchive opens the file.
  auto members = GoodWheelMembers();
  for (int i = 0; i < 20; ++i) {
    members.push_back({"acme_logger/m" + std::to_string(i) + ".py", ""});
  }
  DistributionLimits limits;
  limits.archive_limits.max_entries = 10;
  ExpectInvalid(ReadWheelMetadata(Make("many.whl", Format::kZip, members), limits),
                "more than 10 members (its end record lists 24)");
}

}  // namespace
}  // namespace pipy::python
