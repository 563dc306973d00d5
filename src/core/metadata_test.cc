#include "core/metadata.h"

#include <gtest/gtest.h>

#include <string>

namespace pipy {
namespace {

CoreMetadata MustParse(std::string_view text) {
  auto m = ParseCoreMetadata(text);
  EXPECT_TRUE(m.has_value()) << m.error().ToString();
  return m.has_value() ? *m : CoreMetadata();
}

// A wheel METADATA as setuptools 68 writes it: description in the body.
constexpr char kSetuptoolsWheel[] =
    "Metadata-Version: 2.1\n"
    "Name: acme-analytics\n"
    "Version: 1.4.0\n"
    "Summary: Send events to the analytics pipeline\n"
    "Home-page: https://git.acme.internal/acme/analytics\n"
    "Author: Platform Team\n"
    "Author-email: platform@acme.example\n"
    "License: MIT\n"
    "Classifier: Programming Language :: Python :: 3\n"
    "Classifier: License :: OSI Approved :: MIT License\n"
    "Requires-Python: >=3.8\n"
    "Description-Content-Type: text/markdown\n"
    "License-File: LICENSE\n"
    "Requires-Dist: requests>=2.28\n"
    "Requires-Dist: redis[hiredis]<6,>=4.5\n"
    "Provides-Extra: test\n"
    "Requires-Dist: pytest>=7; extra == \"test\"\n"
    "\n"
    "# acme-analytics\n"
    "\n"
    "Send events.\n";

TEST(CoreMetadataTest, SetuptoolsWheel) {
  CoreMetadata m = MustParse(kSetuptoolsWheel);
  EXPECT_EQ(m.metadata_version, "2.1");
  EXPECT_EQ(m.name, "acme-analytics");
  EXPECT_EQ(m.version, "1.4.0");
  EXPECT_EQ(m.summary, "Send events to the analytics pipeline");
  EXPECT_EQ(m.description, "# acme-analytics\n\nSend events.\n");
  EXPECT_EQ(m.description_content_type, "text/markdown");
  EXPECT_EQ(m.requires_python, ">=3.8");
  EXPECT_EQ(m.requires_dist, (std::vector<std::string>{"requests>=2.28", "redis[hiredis]<6,>=4.5",
                                                       "pytest>=7; extra == \"test\""}));
  EXPECT_EQ(m.provides_extra, std::vector<std::string>{"test"});
  EXPECT_EQ(m.GetAll("classifier"),
            (std::vector<std::string>{"Programming Language :: Python :: 3",
                                      "License :: OSI Approved :: MIT License"}));
  EXPECT_EQ(m.GetAll("HOME-PAGE"),
            std::vector<std::string>{"https://git.acme.internal/acme/analytics"});
  EXPECT_EQ(m.fields.count("License-File"), 1u);
  EXPECT_EQ(m.fields.size(), 17u);
  EXPECT_TRUE(m.GetAll("Keywords").empty());
  EXPECT_EQ(m.fields.count("Description"), 0u);
}

TEST(CoreMetadataTest, CrlfGivesTheSameResult) {
  std::string crlf;
  for (char c : std::string(kSetuptoolsWheel)) {
    if (c == '\n') {
      crlf += "\r\n";
    } else {
      crlf.push_back(c);
    }
  }
  CoreMetadata a = MustParse(kSetuptoolsWheel);
  CoreMetadata b = MustParse(crlf);
  EXPECT_EQ(b.name, a.name);
  EXPECT_EQ(b.summary, a.summary);
  EXPECT_EQ(b.requires_dist, a.requires_dist);
  EXPECT_EQ(b.description, a.description);
  EXPECT_EQ(b.fields, a.fields);
}

// An sdist PKG-INFO from an older setuptools: Description (and a multi-line License) as
// header fields continued with 8 spaces, CRLF line endings, no body.
TEST(CoreMetadataTest, OldSetuptoolsPkgInfoWithDescriptionField) {
  const std::string text =
      "Metadata-Version: 1.1\r\n"
      "Name: Acme.Redis\r\n"
      "Version: 0.9\r\n"
      "Summary: Sharded Redis client\r\n"
      "Home-page: UNKNOWN\r\n"
      "License: Copyright (c) Acme\r\n"
      "        \r\n"
      "        All rights reserved.\r\n"
      "Description: Acme Redis\r\n"
      "        ==========\r\n"
      "        \r\n"
      "        Usage::\r\n"
      "        \r\n"
      "            client = ShardedRedis(nodes)\r\n"
      "        \r\n"
      "Platform: UNKNOWN\r\n"
      "Classifier: Programming Language :: Python :: 2\r\n";
  CoreMetadata m = MustParse(text);
  EXPECT_EQ(m.metadata_version, "1.1");
  EXPECT_EQ(m.name, "Acme.Redis");
  EXPECT_EQ(m.version, "0.9");
  EXPECT_EQ(m.description, "Acme Redis\n==========\n\nUsage::\n\n    client = ShardedRedis(nodes)");
  EXPECT_EQ(m.GetAll("License"),
            std::vector<std::string>{"Copyright (c) Acme\n\nAll rights reserved."});
  EXPECT_EQ(m.GetAll("Platform"), std::vector<std::string>{"UNKNOWN"});
  EXPECT_EQ(m.GetAll("Classifier"),
            std::vector<std::string>{"Programming Language :: Python :: 2"});
  EXPECT_TRUE(m.requires_dist.empty());
  EXPECT_EQ(m.requires_python, "");
  EXPECT_EQ(m.description_content_type, "");
}

TEST(CoreMetadataTest, HatchlingWheel) {
  const std::string text =
      "Metadata-Version: 2.3\n"
      "Name: acme-logger\n"
      "Version: 0.3.1\n"
      "Summary: Structured logging for Acme services\n"
      "Project-URL: Source, https://git.acme.internal/acme/logger\n"
      "Author-email: Platform Team <platform@acme.example>\n"
      "License-Expression: MIT\n"
      "License-File: LICENSE.txt\n"
      "Classifier: Programming Language :: Python :: 3.11\n"
      "Classifier: Programming Language :: Python :: 3.12\n"
      "Requires-Python: >=3.9\n"
      "Requires-Dist: structlog>=23.1\n"
      "Provides-Extra: dev\n"
      "Requires-Dist: mypy; extra == 'dev'\n"
      "Provides-Extra: otel\n"
      "Requires-Dist: opentelemetry-api; extra == 'otel'\n"
      "Description-Content-Type: text/markdown\n"
      "\n"
      "# acme-logger\n"
      "\n"
      "```python\n"
      "log.info(\"hello\", user=42)\n"
      "```\n";
  CoreMetadata m = MustParse(text);
  EXPECT_EQ(m.metadata_version, "2.3");
  EXPECT_EQ(m.name, "acme-logger");
  EXPECT_EQ(m.requires_dist, (std::vector<std::string>{"structlog>=23.1", "mypy; extra == 'dev'",
                                                       "opentelemetry-api; extra == 'otel'"}));
  EXPECT_EQ(m.provides_extra, (std::vector<std::string>{"dev", "otel"}));
  EXPECT_EQ(m.GetAll("project-url"),
            std::vector<std::string>{"Source, https://git.acme.internal/acme/logger"});
  EXPECT_EQ(m.description, "# acme-logger\n\n```python\nlog.info(\"hello\", user=42)\n```\n");
}

TEST(CoreMetadataTest, FlitWheelWithoutTrailingNewline) {
  const std::string text =
      "Metadata-Version: 2.1\n"
      "Name: acme_packets\n"
      "Version: 2.0.0rc1\n"
      "Summary: Packet framing helpers.\n"
      "Author-email: Jane Doe <jane@acme.example>\n"
      "Requires-Python: >=3.7\n"
      "Description-Content-Type: text/x-rst\n"
      "Classifier: License :: OSI Approved :: BSD License\n"
      "Requires-Dist: crcmod ; extra == \"fast\"\n"
      "Project-URL: Home, https://git.acme.internal/acme/packets\n"
      "Provides-Extra: fast\n"
      "\n"
      "Acme packets\n"
      "============";
  CoreMetadata m = MustParse(text);
  EXPECT_EQ(m.name, "acme_packets");
  EXPECT_EQ(m.version, "2.0.0rc1");
  EXPECT_EQ(m.description_content_type, "text/x-rst");
  EXPECT_EQ(m.requires_dist, std::vector<std::string>{"crcmod ; extra == \"fast\""});
  EXPECT_EQ(m.description, "Acme packets\n============");
}

TEST(CoreMetadataTest, PipeEncodedDescriptionFromTheSpec) {
  const std::string text =
      "Metadata-Version: 2.1\n"
      "Name: mathx\n"
      "Version: 1.0\n"
      "Description: This project provides powerful math functions\n"
      "       |For example, you can use `sum()` to sum numbers:\n"
      "       |\n"
      "       |Example::\n"
      "       |\n"
      "       |    >>> sum(1, 2)\n"
      "       |    3\n"
      "       |\n";
  CoreMetadata m = MustParse(text);
  EXPECT_EQ(m.description,
            "This project provides powerful math functions\n"
            "For example, you can use `sum()` to sum numbers:\n\nExample::\n\n"
            "    >>> sum(1, 2)\n    3");
}

TEST(CoreMetadataTest, BodyWinsOverDescriptionField) {
  CoreMetadata m = MustParse(
      "Metadata-Version: 2.1\nName: a\nVersion: 1\nDescription: from the header\n\nfrom the "
      "body\n");
  EXPECT_EQ(m.description, "from the body\n");
  EXPECT_EQ(m.GetAll("Description"), std::vector<std::string>{"from the header"});
  // An empty body leaves the header's description.
  CoreMetadata n = MustParse("Metadata-Version: 2.1\nName: a\nVersion: 1\nDescription: hdr\n\n");
  EXPECT_EQ(n.description, "hdr");
}

TEST(CoreMetadataTest, FoldedFieldsAreUnfolded) {
  CoreMetadata m = MustParse(
      "Metadata-Version: 2.1\nName: a\nVersion: 1\n"
      "Author: an author that\n  was folded\n\tover lines\n"
      "Keywords:   redis,  sharding  \n"
      "Requires-Dist: x\n");
  // (Summary is the one unfolded field that may not be folded: see SummaryIsOneLine.)
  EXPECT_EQ(m.GetAll("Author"), std::vector<std::string>{"an author that was folded over lines"});
  EXPECT_EQ(m.GetAll("Keywords"), std::vector<std::string>{"redis,  sharding"});
  EXPECT_EQ(m.requires_dist, std::vector<std::string>{"x"});
}

TEST(CoreMetadataTest, NonHeaderLineStartsTheBody) {
  CoreMetadata m = MustParse(
      "Metadata-Version: 2.1\nName: a\nVersion: 1\nthis is not a header\nRequires-Dist: y\n");
  EXPECT_EQ(m.description, "this is not a header\nRequires-Dist: y\n");
  EXPECT_TRUE(m.requires_dist.empty());
}

TEST(CoreMetadataTest, MissingRequiredFields) {
  struct Case {
    std::string_view text;
    std::string_view field;
  };
  const Case cases[] = {
      {"Name: a\nVersion: 1\n", "Metadata-Version"},
      {"Metadata-Version: 2.1\nVersion: 1\n", "Name"},
      {"Metadata-Version: 2.1\nName: a\n", "Version"},
      {"Metadata-Version: 2.1\nName:   \nVersion: 1\n", "Name"},
      {"Metadata-Version: 2.1\nVersion: 1\n\nName: a\n", "Name"},  // in the body, not a field
      {"", "Metadata-Version"},
      {"\n\n", "Metadata-Version"},
  };
  for (const Case& c : cases) {
    auto m = ParseCoreMetadata(c.text);
    ASSERT_FALSE(m.has_value()) << c.text;
    EXPECT_EQ(m.error().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(m.error().message().find(std::string(c.field)), std::string::npos)
        << m.error().message();
  }
}

TEST(CoreMetadataTest, RejectsMalformedInput) {
  const std::string_view bad[] = {
      "Metadata-Version: 2.1\nName: a\nName: b\nVersion: 1\n",  // conflicting names
      "Metadata-Version: 2.1\nName: a\nVersion: 1\nVersion: 2\n",
      " Metadata-Version: 2.1\nName: a\nVersion: 1\n",         // starts with continuation
      "Metadata-Version: 2.1\nName: caf\xc3\nVersion: 1\n",    // invalid UTF-8
      "Metadata-Version: 2.1\nName: a\nVersion: 1\n\n\xff\n",  // invalid UTF-8 in body
  };
  for (std::string_view text : bad) {
    auto m = ParseCoreMetadata(text);
    ASSERT_FALSE(m.has_value()) << text;
    EXPECT_EQ(m.error().code(), StatusCode::kInvalidArgument);
  }
  // A repeated field with the same value is harmless.
  EXPECT_TRUE(
      ParseCoreMetadata("Metadata-Version: 2.1\nName: a\nName: a\nVersion: 1\n").has_value());
}

TEST(CoreMetadataTest, FieldNamesAreCaseInsensitive) {
  CoreMetadata m = MustParse(
      "metadata-version: 2.2\nNAME: Caf\xc3\xa9-Tools\nversion: 3\nrequires-dist: z\n"
      "Dynamic: license\n");
  EXPECT_EQ(m.metadata_version, "2.2");
  EXPECT_EQ(m.name, "Caf\xc3\xa9-Tools");
  EXPECT_EQ(m.version, "3");
  EXPECT_EQ(m.requires_dist, std::vector<std::string>{"z"});
  EXPECT_EQ(m.GetAll("DYNAMIC"), std::vector<std::string>{"license"});
  // Keys keep the spelling of the file.
  EXPECT_EQ(m.fields.find("name")->first, "NAME");
}

// --- caps on displayed fields (metadata.h) ---

const std::string kHead = "Metadata-Version: 2.1\nName: a\nVersion: 1\n";

void ExpectRefused(const std::string& text, const std::string& needle) {
  auto m = ParseCoreMetadata(text);
  ASSERT_FALSE(m.has_value()) << text.substr(0, 200);
  EXPECT_EQ(m.error().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(m.error().message().find(needle), std::string::npos) << m.error().message();
}

TEST(CoreMetadataLimitsTest, SummaryIsCappedInCharacters) {
  EXPECT_EQ(MustParse(kHead + "Summary: " + std::string(kMaxSummaryChars, 's') + "\n").summary,
            std::string(kMaxSummaryChars, 's'));
  ExpectRefused(kHead + "Summary: " + std::string(kMaxSummaryChars + 1, 's') + "\n",
                "Summary is 513 characters long; the limit is 512");
  // 512 two-byte characters are 1024 bytes, and still within the cap.
  std::string e_acute;
  for (std::size_t i = 0; i < kMaxSummaryChars; ++i) {
    e_acute += "\xc3\xa9";
  }
  EXPECT_EQ(MustParse(kHead + "Summary: " + e_acute + "\n").summary, e_acute);
  ExpectRefused(kHead + "Summary: " + e_acute + "\xc3\xa9\n", "Summary is 513 characters");
}

TEST(CoreMetadataLimitsTest, SummaryIsOneLine) {
  ExpectRefused(kHead + "Summary: first line\n second line\n", "Summary must be a single line");
  ExpectRefused(kHead + "Summary: first line\r\n\tsecond line\r\n", "single line");
  ExpectRefused("Summary: x\n  y\n" + kHead, "single line");
}

TEST(CoreMetadataLimitsTest, DescriptionIsCappedAtOneMiB) {
  std::string at_cap(kMaxDescriptionBytes, 'r');
  EXPECT_EQ(MustParse(kHead + "\n" + at_cap).description.size(), kMaxDescriptionBytes);
  ExpectRefused(kHead + "\n" + at_cap + "r", "description (README) is 1048577 bytes");
  // The same cap holds for a description in the Description field.
  ExpectRefused(kHead + "Description: " + at_cap + "r\n", "Description is 1048577 bytes");
  // CRLF bodies are counted after newline normalization, as stored.
  std::string crlf;
  while (crlf.size() < kMaxDescriptionBytes + 100) {
    crlf += "line\r\n";
  }
  EXPECT_TRUE(ParseCoreMetadata(kHead + "\n" + crlf).has_value());
}

TEST(CoreMetadataLimitsTest, NameAndVersionAreCapped) {
  std::string long_name(kMaxNameBytes + 1, 'n');
  ExpectRefused("Metadata-Version: 2.1\nName: " + long_name + "\nVersion: 1\n",
                "field Name is 201 bytes long; the limit is 200 bytes");
  std::string long_version = "1." + std::string(kMaxVersionBytes, '0');
  ExpectRefused("Metadata-Version: 2.1\nName: a\nVersion: " + long_version + "\n",
                "field Version is");
  EXPECT_TRUE(ParseCoreMetadata("Metadata-Version: 2.1\nName: " + std::string(kMaxNameBytes, 'n') +
                                "\nVersion: 1\n")
                  .has_value());
}

TEST(CoreMetadataLimitsTest, DisplayedFieldsAreCapped) {
  const std::string big(kMaxFieldBytes + 1, 'x');
  for (std::string field : {"Home-page", "Author", "Author-email", "Maintainer", "Keywords",
                            "Project-URL", "Classifier", "Requires-Dist", "Requires-Python",
                            "Description-Content-Type", "X-Unknown-Field"}) {
    ExpectRefused(kHead + field + ": " + big + "\n", "field " + field + " is 8193 bytes");
    EXPECT_TRUE(ParseCoreMetadata(kHead + field + ": " + std::string(kMaxFieldBytes, 'x') + "\n")
                    .has_value())
        << field;
  }
  // A value folded over many short lines counts once unfolded.
  std::string folded = kHead + "Keywords: k";
  for (std::size_t i = 0; i < kMaxFieldBytes / 2; ++i) {
    folded += "\n k";
  }
  ExpectRefused(folded + "\n", "field Keywords is");
}

TEST(CoreMetadataLimitsTest, LicenseMayHoldAWholeLicenseText) {
  std::string text = kHead + "License: GNU GENERAL PUBLIC LICENSE";
  while (text.size() < 40'000) {
    text += "\n        Everyone is permitted to copy and distribute verbatim copies";
  }
  EXPECT_TRUE(ParseCoreMetadata(text + "\n").has_value());
  ExpectRefused(kHead + "License: " + std::string(kMaxLicenseBytes + 1, 'l') + "\n",
                "field License is 65537 bytes");
}

}  // namespace
}  // namespace pipy
