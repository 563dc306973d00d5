#include "core/filename.h"

#include <gtest/gtest.h>

#include <string>

#include "core/test_util.h"

namespace pipy {
namespace {

using ::pipy::testing::ReadTestdataLines;
using ::pipy::testing::SplitTabs;

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    out += (i > 0 ? "," : "") + items[i];
  }
  return out;
}

TEST(WheelFilenameTest, EveryLineOfWheelFilenames) {
  bool ok = false;
  auto lines = ReadTestdataLines("wheel_filenames.tsv", &ok);
  ASSERT_TRUE(ok);
  ASSERT_GE(lines.size(), 14u);
  for (const std::string& line : lines) {
    auto fields = SplitTabs(line);
    auto parsed = ParseWheelFilename(fields[0]);
    if (fields.size() == 2 && fields[1] == "INVALID") {
      ASSERT_FALSE(parsed.has_value()) << fields[0] << " parsed as " << parsed->name;
      EXPECT_EQ(parsed.error().code(), StatusCode::kInvalidArgument);
      continue;
    }
    ASSERT_EQ(fields.size(), 5u) << line;
    ASSERT_TRUE(parsed.has_value()) << fields[0] << ": " << parsed.error().ToString();
    EXPECT_EQ(parsed->name, fields[1]) << line;
    EXPECT_EQ(parsed->version.ToString(), fields[2]) << line;
    EXPECT_EQ(parsed->build_tag, fields[3]) << line;
    EXPECT_EQ(Join(parsed->tags), fields[4]) << line;
  }
}

TEST(SdistFilenameTest, EveryLineOfSdistFilenames) {
  bool ok = false;
  auto lines = ReadTestdataLines("sdist_filenames.tsv", &ok);
  ASSERT_TRUE(ok);
  ASSERT_GE(lines.size(), 8u);
  for (const std::string& line : lines) {
    auto fields = SplitTabs(line);
    auto parsed = ParseSdistFilename(fields[0]);
    if (fields.size() == 2 && fields[1] == "INVALID") {
      ASSERT_FALSE(parsed.has_value()) << fields[0] << " parsed as " << parsed->name;
      EXPECT_EQ(parsed.error().code(), StatusCode::kInvalidArgument);
      continue;
    }
    ASSERT_EQ(fields.size(), 3u) << line;
    ASSERT_TRUE(parsed.has_value()) << fields[0] << ": " << parsed.error().ToString();
    EXPECT_EQ(parsed->name, fields[1]) << line;
    EXPECT_EQ(parsed->version.ToString(), fields[2]) << line;
    EXPECT_EQ(parsed->is_zip, fields[0].ends_with(".zip")) << line;
  }
}

TEST(FilenameTest, RejectsPathTricks) {
  const std::string_view bad[] = {
      "../x-1.0.tar.gz",
      "a/b-1.0-py3-none-any.whl",
      std::string_view("x-1.0.tar.gz\0", 13),
      std::string_view("x-1.0\0.tar.gz", 13),
      "..\\x-1.0.tar.gz",
      "x\\y-1.0.tar.gz",
      "/x-1.0.tar.gz",
      ".x-1.0.tar.gz",
      ".hidden-1.0-py3-none-any.whl",
      "x-1.0.tar.gz/",
      "x-1.0 .tar.gz",
      "x-1.0.tar.gz\n",
      "x-\xc3\xa9.tar.gz",
      "",
  };
  for (std::string_view name : bad) {
    EXPECT_FALSE(ParseSdistFilename(name).has_value()) << name;
    EXPECT_FALSE(ParseWheelFilename(name).has_value()) << name;
  }
  const std::string_view bad_wheels[] = {
      "a/b-1.0-py3-none-any.whl",   "../pkg-1.0-py3-none-any.whl",
      "pkg-1.0-py3-none-any/.whl",  std::string_view("pkg-1.0-py3-none-any.whl\0", 25),
      "pkg-1.0-py3-none-any\\.whl",
  };
  for (std::string_view name : bad_wheels) {
    auto parsed = ParseWheelFilename(name);
    ASSERT_FALSE(parsed.has_value()) << name;
    EXPECT_EQ(parsed.error().code(), StatusCode::kInvalidArgument);
  }
  // The control byte is shown escaped in the message, not raw.
  auto nul = ParseSdistFilename(std::string_view("x-1.0.tar.gz\0", 13));
  ASSERT_FALSE(nul.has_value());
  EXPECT_NE(nul.error().message().find("\\x00"), std::string::npos) << nul.error().message();
}

TEST(WheelFilenameTest, MoreCases) {
  auto w = ParseWheelFilename("zope.interface-6.1-cp312-cp312-MANYLINUX_2_17_X86_64.whl");
  ASSERT_TRUE(w.has_value()) << w.error().ToString();
  EXPECT_EQ(w->name, "zope-interface");
  EXPECT_EQ(w->tags, std::vector<std::string>{"cp312-cp312-manylinux_2_17_x86_64"});

  auto multi = ParseWheelFilename("a-1-py3.py2-abi3.none-win32.any.whl");
  ASSERT_TRUE(multi.has_value());
  EXPECT_EQ(multi->tags.size(), 8u);
  EXPECT_TRUE(std::is_sorted(multi->tags.begin(), multi->tags.end()));
  EXPECT_EQ(multi->tags.front(), "py2-abi3-any");
  EXPECT_EQ(multi->tags.back(), "py3-none-win32");

  auto dup = ParseWheelFilename("a-1-py3.py3-none-any.whl");
  ASSERT_TRUE(dup.has_value());
  EXPECT_EQ(dup->tags, std::vector<std::string>{"py3-none-any"});

  auto build = ParseWheelFilename("a-1.0-42-py3-none-any.whl");
  ASSERT_TRUE(build.has_value());
  EXPECT_EQ(build->build_tag, "42");

  const std::string_view invalid[] = {
      "pkg-1.0-py3-none-any.WHL",     "pkg-1.0-py3..py2-none-any.whl", "pkg-1.0-py3-none-.whl",
      "pkg-1.0--py3-none-any.whl",    "_pkg-1.0-py3-none-any.whl",     "pkg_-1.0-py3-none-any.whl",
      "pkg-1.0-1-2-py3-none-any.whl", "pkg-1.0-py3-none-any+x.whl",    "pkg-1.0-py3-none-any..whl",
      "pkg-1.0-py3-none-any",         "pkg@x-1.0-py3-none-any.whl",    ".whl",
  };
  for (std::string_view name : invalid) {
    EXPECT_FALSE(ParseWheelFilename(name).has_value()) << name;
  }
}

// Found by the dist_filename fuzzer: a compressed tag set expands to the product of its
// fields, so a short name could make tens of thousands of tags (and a long one millions).
TEST(WheelFilenameTest, BoundsTheTagsAndTheLength) {
  auto Field = [](int items) {
    std::string field = "a0";
    for (int i = 1; i < items; ++i) {
      field += ".a" + std::to_string(i);
    }
    return field;
  };
  // 8 x 8 x 4 = 256 tags: the most accepted.
  auto most = ParseWheelFilename("a-1-" + Field(8) + "-" + Field(8) + "-" + Field(4) + ".whl");
  ASSERT_TRUE(most.has_value()) << most.error().ToString();
  EXPECT_EQ(most->tags.size(), 256u);
  // 8 x 8 x 5 = 320: refused.
  auto over = ParseWheelFilename("a-1-" + Field(8) + "-" + Field(8) + "-" + Field(5) + ".whl");
  ASSERT_FALSE(over.has_value());
  EXPECT_EQ(over.error().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(over.error().message().find("more than 256 tags"), std::string::npos)
      << over.error().message();
  // 255 bytes is the longest name a file system stores; one more is refused, for sdists too.
  std::string name(255 - std::string("-1-py3-none-any.whl").size(), 'a');
  EXPECT_TRUE(ParseWheelFilename(name + "-1-py3-none-any.whl").has_value());
  auto long_wheel = ParseWheelFilename(name + "a-1-py3-none-any.whl");
  ASSERT_FALSE(long_wheel.has_value());
  EXPECT_NE(long_wheel.error().message().find("longer than 255 bytes"), std::string::npos)
      << long_wheel.error().message();
  std::string sdist_name(255 - std::string("-1.tar.gz").size(), 'b');
  EXPECT_TRUE(ParseSdistFilename(sdist_name + "-1.tar.gz").has_value());
  EXPECT_FALSE(ParseSdistFilename(sdist_name + "b-1.tar.gz").has_value());
}

TEST(SdistFilenameTest, MoreCases) {
  auto s = ParseSdistFilename("Django-4.2.7.tar.gz");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->name, "django");
  EXPECT_EQ(s->version.ToString(), "4.2.7");
  EXPECT_FALSE(s->is_zip);

  auto legacy = ParseSdistFilename("my-cool-pkg-2.0.post1.zip");
  ASSERT_TRUE(legacy.has_value());
  EXPECT_EQ(legacy->name, "my-cool-pkg");
  EXPECT_EQ(legacy->version.ToString(), "2.0.post1");
  EXPECT_TRUE(legacy->is_zip);

  const std::string_view invalid[] = {
      "-1.0.tar.gz",
      "pkg-.tar.gz",
      "pkg-1.0.tar",
      "pkg-1.0.tgz",
      "pkg-1.0.TAR.GZ",
      "pkg_-1.0.tar.gz",
      "pkg-1.0-py3-none-any.whl",
      ".tar.gz",
      "pkg-1.0.tar.gz.zip.bak",
  };
  for (std::string_view name : invalid) {
    EXPECT_FALSE(ParseSdistFilename(name).has_value()) << name;
  }
}

}  // namespace
}  // namespace pipy
