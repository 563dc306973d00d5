#include "catalog/catalog_conformance.h"

#include <algorithm>
#include <atomic>
#include <set>
#include <thread>
#include <vector>

#include "core/sha256.h"

namespace pipy::catalog {

void CatalogConformanceTest::SetUp() {
  catalog_ = GetParam().make_catalog();
  ASSERT_NE(catalog_, nullptr) << "the factory could not create a catalog";
}

std::string CatalogConformanceName(const ::testing::TestParamInfo<CatalogConformanceParam>& info) {
  return info.param.name;
}

FileRecord TestFile(const std::string& project, const std::string& version,
                    const std::string& content_tag) {
  FileRecord f;
  f.project = project;
  f.version = version;
  std::string stem = project;
  std::replace(stem.begin(), stem.end(), '-', '_');
  f.filename = stem + "-" + version + "-py3-none-any.whl";
  f.attributes["packagetype"] = "bdist_wheel";
  f.size = 1234;
  f.sha256 = Sha256Hex(f.filename + "/" + content_tag);
  f.attributes["metadata_sha256"] = Sha256Hex(f.filename + "/METADATA");
  f.attributes["requires_python"] = ">=3.8";
  f.upload_time_ms = 1'700'000'000'000;
  f.uploader = "ci-token";
  return f;
}

namespace {

ReleaseMetadata Meta(const std::string& display_name, const std::string& summary) {
  ReleaseMetadata m;
  m.display_name = display_name;
  m.summary = summary;
  m.description = "# " + display_name + "\n";
  m.attributes["description_content_type"] = "text/markdown";
  m.attributes["requires_python"] = ">=3.8";
  return m;
}

TokenRecord Token(const std::string& name, const std::string& secret,
                  std::vector<std::string> scopes) {
  return TokenRecord{name, Sha256Hex(secret), std::move(scopes), 1'700'000'000'123, false, 0, 0};
}

std::int64_t Seq(Catalog& catalog) {
  auto seq = catalog.ChangeSequence();
  EXPECT_TRUE(seq.has_value()) << seq.status().ToString();
  return seq.value_or(-1);
}

TEST_P(CatalogConformanceTest, AddedFileIsFoundWithEveryField) {
  FileRecord file = TestFile("acme-logger", "1.0rc1");
  file.attributes["packagetype"] = "sdist";
  file.filename = "acme_logger-1.0rc1.tar.gz";
  auto outcome = catalog_->AddFile(file, Meta("Acme.Logger", "Logs"));
  ASSERT_TRUE(outcome.has_value()) << outcome.status().ToString();
  EXPECT_EQ(*outcome, AddFileOutcome::kCreated);

  auto found = catalog_->FindFile("python", file.project, file.filename);
  ASSERT_TRUE(found.has_value()) << found.status().ToString();
  ASSERT_TRUE(found->has_value());
  const FileRecord& f = **found;
  EXPECT_EQ(f.project, "acme-logger");
  EXPECT_EQ(f.version, "1.0rc1");
  EXPECT_EQ(f.filename, file.filename);
  EXPECT_EQ(std::string(catalog::AttributeOf(f.attributes, "packagetype")), "sdist");
  EXPECT_EQ(f.size, 1234u);
  EXPECT_EQ(f.sha256, file.sha256);
  EXPECT_EQ(std::string(catalog::AttributeOf(f.attributes, "metadata_sha256")), std::string(catalog::AttributeOf(file.attributes, "metadata_sha256")));
  EXPECT_EQ(std::string(catalog::AttributeOf(f.attributes, "requires_python")), ">=3.8");
  EXPECT_EQ(f.upload_time_ms, 1'700'000'000'000);
  EXPECT_EQ(f.uploader, "ci-token");
  EXPECT_FALSE(f.yanked);

  auto missing = catalog_->FindFile("python", "acme-logger", "acme_logger-9.9.tar.gz");
  ASSERT_TRUE(missing.has_value());
  EXPECT_FALSE(missing->has_value());
}

TEST_P(CatalogConformanceTest, ProvenanceIsStoredAndReadBackOnlyForBuiltFiles) {
  FileRecord built = TestFile("acme-built", "2.0");
  built.provenance = Provenance{"mono", std::string(40, 'c'), "built-folder", 42, "passed"};
  ASSERT_TRUE(catalog_->AddFile(built, Meta("acme-built", "Built")).has_value());
  FileRecord uploaded = TestFile("acme-built", "2.0", "sdist");
  uploaded.filename = "acme_built-2.0.tar.gz";
  uploaded.attributes["packagetype"] = "sdist";
  ASSERT_TRUE(catalog_->AddFile(uploaded, Meta("acme-built", "Built")).has_value());

  auto found = catalog_->FindFile("python", built.project, built.filename);
  ASSERT_TRUE(found.has_value() && found->has_value());
  ASSERT_TRUE((*found)->provenance.has_value());
  const Provenance& p = *(*found)->provenance;
  EXPECT_EQ(p.source, "mono");
  EXPECT_EQ(p.commit, std::string(40, 'c'));
  EXPECT_EQ(p.module, "built-folder");
  EXPECT_EQ(p.build_id, 42);
  EXPECT_EQ(p.test_result, "passed");

  auto files = catalog_->ListFiles("python", "acme-built");
  ASSERT_TRUE(files.has_value());
  ASSERT_EQ(files->size(), 2u);
  for (const FileRecord& f : *files) {
    EXPECT_EQ(f.provenance.has_value(), f.filename == built.filename) << f.filename;
  }
}

TEST_P(CatalogConformanceTest, IdenticalReAddChangesNothing) {
  FileRecord file = TestFile("acme", "1.0");
  ASSERT_EQ(catalog_->AddFile(file, Meta("Acme", "")).value_or(AddFileOutcome{}),
            AddFileOutcome::kCreated);
  FileRecord again = file;
  again.upload_time_ms += 5000;
  again.uploader = "someone-else";
  auto outcome = catalog_->AddFile(again, Meta("Acme", "new summary"));
  ASSERT_TRUE(outcome.has_value()) << outcome.status().ToString();
  EXPECT_EQ(*outcome, AddFileOutcome::kIdenticalExists);
  auto files = catalog_->ListFiles("python", "acme");
  ASSERT_TRUE(files.has_value());
  ASSERT_EQ(files->size(), 1u);
  EXPECT_EQ((*files)[0].uploader, "ci-token");
  EXPECT_EQ((*files)[0].upload_time_ms, file.upload_time_ms);
}

TEST_P(CatalogConformanceTest, DifferentBytesUnderATakenFilenameAreRefused) {
  FileRecord file = TestFile("acme", "1.0", "original");
  ASSERT_TRUE(catalog_->AddFile(file, Meta("Acme", "")).has_value());

  FileRecord other = TestFile("acme", "1.0", "tampered");
  auto outcome = catalog_->AddFile(other, Meta("Acme", ""));
  ASSERT_FALSE(outcome.has_value());
  EXPECT_EQ(outcome.error().code(), StatusCode::kAlreadyExists);
  EXPECT_NE(outcome.error().message().find(file.filename), std::string::npos)
      << outcome.error().message();

  FileRecord resized = file;
  resized.size += 1;
  EXPECT_EQ(catalog_->AddFile(resized, Meta("Acme", "")).status().code(),
            StatusCode::kAlreadyExists);

  auto stored = catalog_->FindFile("python", file.project, file.filename);
  ASSERT_TRUE(stored.has_value() && stored->has_value());
  EXPECT_EQ((*stored)->sha256, file.sha256);
  EXPECT_EQ((*stored)->size, file.size);
}

TEST_P(CatalogConformanceTest, ProjectIsCreatedWithItsDisplayName) {
  FileRecord first = TestFile("acme-logger", "1.0");
  first.upload_time_ms = 1000;
  ASSERT_TRUE(catalog_->AddFile(first, Meta("Acme.Logger", "")).has_value());
  FileRecord second = TestFile("acme-logger", "2.0");
  second.upload_time_ms = 5000;
  ASSERT_TRUE(catalog_->AddFile(second, Meta("ACME_logger", "")).has_value());

  auto project = catalog_->FindProject("python", "acme-logger");
  ASSERT_TRUE(project.has_value()) << project.status().ToString();
  ASSERT_TRUE(project->has_value());
  EXPECT_EQ((*project)->name, "acme-logger");
  EXPECT_EQ((*project)->display_name, "Acme.Logger");
  EXPECT_EQ((*project)->created_ms, 1000);
  EXPECT_EQ((*project)->last_upload_ms, 5000);

  auto missing = catalog_->FindProject("python", "nobody");
  ASSERT_TRUE(missing.has_value());
  EXPECT_FALSE(missing->has_value());
}

TEST_P(CatalogConformanceTest, ReleasesAreListedWithTheirMetadata) {
  FileRecord one = TestFile("acme", "1.0");
  one.upload_time_ms = 111;
  FileRecord two = TestFile("acme", "2.0");
  two.upload_time_ms = 222;
  ASSERT_TRUE(catalog_->AddFile(one, Meta("Acme", "first")).has_value());
  ASSERT_TRUE(catalog_->AddFile(two, Meta("Acme", "second")).has_value());
  ASSERT_TRUE(catalog_->AddFile(TestFile("other", "1.0"), Meta("Other", "x")).has_value());

  auto releases = catalog_->ListReleases("python", "acme");
  ASSERT_TRUE(releases.has_value()) << releases.status().ToString();
  ASSERT_EQ(releases->size(), 2u);
  std::sort(releases->begin(), releases->end(),
            [](const auto& a, const auto& b) { return a.version < b.version; });
  EXPECT_EQ((*releases)[0].project, "acme");
  EXPECT_EQ((*releases)[0].version, "1.0");
  EXPECT_EQ((*releases)[0].metadata.summary, "first");
  EXPECT_EQ((*releases)[0].metadata.description, "# Acme\n");
  EXPECT_EQ(std::string(catalog::AttributeOf((*releases)[0].metadata.attributes, "description_content_type")), "text/markdown");
  EXPECT_EQ(std::string(catalog::AttributeOf((*releases)[0].metadata.attributes, "requires_python")), ">=3.8");
  EXPECT_EQ((*releases)[0].created_ms, 111);
  EXPECT_EQ((*releases)[1].version, "2.0");
  EXPECT_EQ((*releases)[1].metadata.summary, "second");
  EXPECT_EQ((*releases)[1].created_ms, 222);

  auto none = catalog_->ListReleases("python", "nobody");
  ASSERT_TRUE(none.has_value());
  EXPECT_TRUE(none->empty());
}

TEST_P(CatalogConformanceTest, EmptyReleaseFieldsAreFilledButNeverOverwritten) {
  FileRecord sdist = TestFile("acme", "1.0");
  sdist.filename = "acme-1.0.tar.gz";
  ASSERT_TRUE(catalog_->AddFile(sdist, ReleaseMetadata{.display_name = "Acme"}).has_value());
  ASSERT_TRUE(catalog_->AddFile(TestFile("acme", "1.0"), Meta("Acme", "filled")).has_value());
  FileRecord third = TestFile("acme", "1.0");
  third.filename = "acme-1.0-py2-none-any.whl";
  ReleaseMetadata other{.display_name = "Acme",
                        .summary = "overwritten?",
                        .description = "other readme",
                        .attributes = {{"description_content_type", "text/x-rst"},
                                       {"requires_python", ">=2.7"}}};
  ASSERT_TRUE(catalog_->AddFile(third, other).has_value());

  auto releases = catalog_->ListReleases("python", "acme");
  ASSERT_TRUE(releases.has_value());
  ASSERT_EQ(releases->size(), 1u);
  const ReleaseMetadata& m = (*releases)[0].metadata;
  EXPECT_EQ(m.summary, "filled");
  EXPECT_EQ(m.description, "# Acme\n");
  EXPECT_EQ(std::string(catalog::AttributeOf(m.attributes, "description_content_type")), "text/markdown");
  EXPECT_EQ(std::string(catalog::AttributeOf(m.attributes, "requires_python")), ">=3.8");
}

TEST_P(CatalogConformanceTest, YankingMarksEveryFileOfTheRelease) {
  FileRecord wheel = TestFile("acme", "1.0");
  FileRecord sdist = TestFile("acme", "1.0");
  sdist.filename = "acme-1.0.tar.gz";
  FileRecord later = TestFile("acme", "2.0");
  for (const FileRecord& f : {wheel, sdist, later}) {
    ASSERT_TRUE(catalog_->AddFile(f, Meta("Acme", "")).has_value());
  }
  {
    Status s = catalog_->SetYanked("python", "acme", "1.0", true, "broken import");
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  {
    Status s = catalog_->SetYanked("python", "acme", "1.0", true, "broken import");
    ASSERT_TRUE(s.ok()) << s.ToString();
  }  // idempotent

  auto files = catalog_->ListFiles("python", "acme");
  ASSERT_TRUE(files.has_value());
  ASSERT_EQ(files->size(), 3u);
  for (const FileRecord& f : *files) {
    EXPECT_EQ(f.yanked, f.version == "1.0") << f.filename;
    EXPECT_EQ(f.yanked_reason, f.version == "1.0" ? "broken import" : "") << f.filename;
  }
  auto found = catalog_->FindFile("python", sdist.project, sdist.filename);
  ASSERT_TRUE(found.has_value() && found->has_value());
  EXPECT_TRUE((*found)->yanked);
  auto releases = catalog_->ListReleases("python", "acme");
  ASSERT_TRUE(releases.has_value());
  for (const ReleaseRecord& r : *releases) {
    EXPECT_EQ(r.yanked, r.version == "1.0");
  }

  {
    Status s = catalog_->SetYanked("python", "acme", "1.0", false, "");
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  files = catalog_->ListFiles("python", "acme");
  ASSERT_TRUE(files.has_value());
  for (const FileRecord& f : *files) {
    EXPECT_FALSE(f.yanked) << f.filename;
    EXPECT_EQ(f.yanked_reason, "");
  }
}

TEST_P(CatalogConformanceTest, YankingAMissingReleaseIsNotFound) {
  ASSERT_TRUE(catalog_->AddFile(TestFile("acme", "1.0"), Meta("Acme", "")).has_value());
  EXPECT_EQ(catalog_->SetYanked("python", "acme", "3.0", true, "x").code(), StatusCode::kNotFound);
  EXPECT_EQ(catalog_->SetYanked("python", "nobody", "1.0", true, "x").code(), StatusCode::kNotFound);
}

TEST_P(CatalogConformanceTest, ProjectsAreListedByName) {
  for (const char* name : {"zeta", "alpha", "mid-dle", "beta"}) {
    ASSERT_TRUE(catalog_->AddFile(TestFile(name, "1.0"), Meta(name, "")).has_value());
  }
  ASSERT_TRUE(catalog_->AddFile(TestFile("alpha", "2.0"), Meta("alpha", "")).has_value());
  auto projects = catalog_->ListProjects("python");
  ASSERT_TRUE(projects.has_value()) << projects.status().ToString();
  std::vector<std::string> names;
  for (const ProjectRecord& p : *projects) {
    names.push_back(p.name);
  }
  EXPECT_EQ(names, (std::vector<std::string>{"alpha", "beta", "mid-dle", "zeta"}));
}

TEST_P(CatalogConformanceTest, ForEachFileVisitsEveryFileAndStopsOnError) {
  std::set<std::string> added;
  for (int i = 0; i < 7; ++i) {
    FileRecord f = TestFile("p" + std::to_string(i % 3), std::to_string(i) + ".0");
    ASSERT_TRUE(catalog_->AddFile(f, Meta("P", "")).has_value());
    added.insert(f.filename);
  }
  std::set<std::string> seen;
  ASSERT_TRUE(catalog_
                  ->ForEachFile([&](const FileRecord& f) {
                    EXPECT_TRUE(seen.insert(f.filename).second) << "visited twice";
                    return Status::Ok();
                  })
                  .ok());
  EXPECT_EQ(seen, added);

  int calls = 0;
  Status s = catalog_->ForEachFile(
      [&](const FileRecord&) { return ++calls == 2 ? Internal("enough") : Status::Ok(); });
  EXPECT_EQ(s, Internal("enough"));
  EXPECT_EQ(calls, 2);
}

TEST_P(CatalogConformanceTest, ChangeSequenceGrowsOnWritesOnly) {
  std::int64_t seq = Seq(*catalog_);
  auto expect_grew = [&](const char* what) {
    std::int64_t now = Seq(*catalog_);
    EXPECT_GT(now, seq) << what;
    seq = now;
  };
  auto expect_same = [&](const char* what) { EXPECT_EQ(Seq(*catalog_), seq) << what; };

  ASSERT_TRUE(catalog_->AddFile(TestFile("acme", "1.0"), Meta("Acme", "")).has_value());
  expect_grew("AddFile");
  ASSERT_TRUE(catalog_->AddFile(TestFile("acme", "1.1"), Meta("Acme", "")).has_value());
  expect_grew("second AddFile");
  (void)catalog_->FindFile("python", TestFile("acme", "1.0").project, TestFile("acme", "1.0").filename);
  (void)catalog_->FindProject("python", "acme");
  (void)catalog_->ListProjects("python");
  (void)catalog_->ListReleases("python", "acme");
  (void)catalog_->ListFiles("python", "acme");
  (void)catalog_->ListTokens();
  ASSERT_TRUE(catalog_->AddToken(Token("used", "s-used", {"read"})).ok());
  expect_grew("AddToken of a token to use");
  ASSERT_TRUE(catalog_->TouchToken("used", 1'700'000'100'000).ok());
  (void)catalog_->ForEachFile([](const FileRecord&) { return Status::Ok(); });
  expect_same("reads");
  ASSERT_FALSE(catalog_->AddFile(TestFile("acme", "1.0", "other"), Meta("", "")).has_value());
  expect_same("a refused AddFile");
  {
    Status s = catalog_->SetYanked("python", "acme", "1.0", true, "bad");
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  expect_grew("yank");
  {
    Status s = catalog_->SetYanked("python", "acme", "1.0", false, "");
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  expect_grew("unyank");
  ASSERT_TRUE(catalog_->AddToken(Token("ci", "secret", {"read"})).ok());
  expect_grew("AddToken");
  ASSERT_TRUE(catalog_->RevokeToken("ci").ok());
  expect_grew("RevokeToken");
}

TEST_P(CatalogConformanceTest, TokensAreAddedFoundListedAndRevoked) {
  ASSERT_TRUE(catalog_->AddToken(Token("zz-deploy", "s1", {"upload:acme-*", "read"})).ok());
  ASSERT_TRUE(catalog_->AddToken(Token("admin", "s2", {"admin"})).ok());

  auto found = catalog_->FindTokenByHash(Sha256Hex("s1"));
  ASSERT_TRUE(found.has_value()) << found.status().ToString();
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->name, "zz-deploy");
  EXPECT_EQ((*found)->hash, Sha256Hex("s1"));
  EXPECT_EQ((*found)->scopes, (std::vector<std::string>{"upload:acme-*", "read"}));
  EXPECT_EQ((*found)->created_ms, 1'700'000'000'123);
  EXPECT_FALSE((*found)->revoked);

  auto unknown = catalog_->FindTokenByHash(Sha256Hex("nope"));
  ASSERT_TRUE(unknown.has_value());
  EXPECT_FALSE(unknown->has_value());

  auto list = catalog_->ListTokens();
  ASSERT_TRUE(list.has_value());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].name, "admin");
  EXPECT_EQ((*list)[1].name, "zz-deploy");

  ASSERT_TRUE(catalog_->RevokeToken("zz-deploy").ok());
  found = catalog_->FindTokenByHash(Sha256Hex("s1"));
  ASSERT_TRUE(found.has_value() && found->has_value());
  EXPECT_TRUE((*found)->revoked);
  EXPECT_EQ(catalog_->RevokeToken("nobody").code(), StatusCode::kNotFound);
}

// Every stored field of a record, for comparing two catalogs.
std::string Describe(const FileRecord& f) {
  std::string out = f.project + "|" + f.version + "|" + f.filename + "|" + std::string(catalog::AttributeOf(f.attributes, "packagetype")) + "|" +
                    std::to_string(f.size) + "|" + f.sha256 + "|" + std::string(catalog::AttributeOf(f.attributes, "metadata_sha256")) + "|" +
                    std::string(catalog::AttributeOf(f.attributes, "requires_python")) + "|" + std::to_string(f.upload_time_ms) + "|" + f.uploader +
                    "|" + (f.yanked ? "yanked:" + f.yanked_reason : "-");
  if (f.provenance) {
    out += "|" + f.provenance->source + "|" + f.provenance->commit + "|" + f.provenance->module +
           "|" + std::to_string(f.provenance->build_id) + "|" + f.provenance->test_result;
  }
  return out;
}

std::string Describe(const ReleaseRecord& r) {
  const ReleaseMetadata& m = r.metadata;
  return r.project + "|" + r.version + "|" + m.display_name + "|" + m.summary + "|" +
         m.description + "|" + std::string(catalog::AttributeOf(m.attributes, "description_content_type")) + "|" + std::string(catalog::AttributeOf(m.attributes, "requires_python")) + "|" +
         (r.yanked ? "yanked:" + r.yanked_reason : "-") + "|" + std::to_string(r.created_ms);
}

std::string Describe(const ProjectRecord& p) {
  return p.name + "|" + p.display_name + "|" + std::to_string(p.created_ms) + "|" +
         std::to_string(p.last_upload_ms);
}

std::string Describe(const TokenRecord& t) {
  std::string out = t.name + "|" + t.hash + "|" + std::to_string(t.created_ms) + "|" +
                    (t.revoked ? "revoked" : "active") + "|" + std::to_string(t.expires_ms) +
                    "|" + std::to_string(t.last_used_ms);
  for (const std::string& scope : t.scopes) {
    out += "|" + scope;
  }
  return out;
}

// Everything a catalog holds, record by record, in a stable order.
std::vector<std::string> Dump(Catalog& catalog) {
  std::vector<std::string> out;
  auto projects = catalog.ListProjects("python");
  EXPECT_TRUE(projects.has_value());
  for (const ProjectRecord& p : projects.value_or(std::vector<ProjectRecord>{})) {
    out.push_back("project " + Describe(p));
    auto releases = catalog.ListReleases("python", p.name);
    auto files = catalog.ListFiles("python", p.name);
    EXPECT_TRUE(releases.has_value() && files.has_value());
    std::vector<std::string> rows;
    for (const ReleaseRecord& r : releases.value_or(std::vector<ReleaseRecord>{})) {
      rows.push_back("release " + Describe(r));
    }
    for (const FileRecord& f : files.value_or(std::vector<FileRecord>{})) {
      rows.push_back("file " + Describe(f));
    }
    std::sort(rows.begin(), rows.end());
    out.insert(out.end(), rows.begin(), rows.end());
  }
  auto tokens = catalog.ListTokens();
  EXPECT_TRUE(tokens.has_value());
  for (const TokenRecord& t : tokens.value_or(std::vector<TokenRecord>{})) {
    out.push_back("token " + Describe(t));
  }
  return out;
}

// `pipy migrate` copies a repository through this interface alone: files with AddFile in
// upload order (their original uploader, upload time and provenance), yanks with SetYanked
// and tokens with AddToken as they are (hash, creation time, revocation). The copy must
// read back exactly like the original.
TEST_P(CatalogConformanceTest, ACopyMadeThroughTheInterfaceReadsTheSame) {
  FileRecord first = TestFile("acme-copy", "1.0");
  first.upload_time_ms = 1000;
  first.uploader = "alice";
  FileRecord sdist = TestFile("acme-copy", "1.0", "sdist");
  sdist.filename = "acme_copy-1.0.tar.gz";
  sdist.attributes["packagetype"] = "sdist";
  sdist.attributes.erase("metadata_sha256");
  sdist.upload_time_ms = 2000;
  FileRecord built = TestFile("acme-copy", "2.0");
  built.upload_time_ms = 3000;
  built.uploader = "builder:7";
  built.provenance = Provenance{"mono", std::string(40, 'd'), "copy", 7, "passed"};
  FileRecord other = TestFile("zeta", "0.1");
  other.upload_time_ms = 1500;
  ASSERT_TRUE(catalog_->AddFile(first, Meta("Acme.Copy", "One")).has_value());
  ASSERT_TRUE(catalog_->AddFile(other, Meta("Zeta", "Z")).has_value());
  ASSERT_TRUE(catalog_->AddFile(sdist, Meta("Acme.Copy", "One")).has_value());
  ASSERT_TRUE(catalog_->AddFile(built, Meta("Acme.Copy", "Two")).has_value());
  ASSERT_TRUE(catalog_->SetYanked("python", "acme-copy", "1.0", true, "broken").ok());
  TokenRecord deploy = Token("deploy", "s1", {"upload:acme-*"});
  deploy.expires_ms = 1'800'000'000'000;
  deploy.last_used_ms = 1'700'000'500'000;
  ASSERT_TRUE(catalog_->AddToken(deploy).ok());
  TokenRecord old = Token("old", "s2", {"admin"});
  old.created_ms = 1'600'000'000'000;
  ASSERT_TRUE(catalog_->AddToken(old).ok());
  ASSERT_TRUE(catalog_->RevokeToken("old").ok());

  std::unique_ptr<Catalog> copy = GetParam().make_catalog();
  ASSERT_NE(copy, nullptr);
  auto projects = catalog_->ListProjects("python");
  ASSERT_TRUE(projects.has_value());
  for (const ProjectRecord& p : *projects) {
    auto releases = catalog_->ListReleases("python", p.name);
    auto files = catalog_->ListFiles("python", p.name);
    ASSERT_TRUE(releases.has_value() && files.has_value());
    std::sort(files->begin(), files->end(), [](const FileRecord& a, const FileRecord& b) {
      return a.upload_time_ms < b.upload_time_ms;
    });
    for (const FileRecord& f : *files) {
      auto release = std::find_if(releases->begin(), releases->end(),
                                  [&](const ReleaseRecord& r) { return r.version == f.version; });
      ASSERT_NE(release, releases->end());
      ASSERT_TRUE(copy->AddFile(f, release->metadata).has_value()) << f.filename;
    }
    for (const ReleaseRecord& r : *releases) {
      ASSERT_TRUE(copy->SetYanked("python", r.project, r.version_key, r.yanked, r.yanked_reason).ok());
    }
  }
  auto tokens = catalog_->ListTokens();
  ASSERT_TRUE(tokens.has_value());
  for (const TokenRecord& t : *tokens) {
    ASSERT_TRUE(copy->AddToken(t).ok()) << t.name;
  }

  std::vector<std::string> original = Dump(*catalog_);
  EXPECT_EQ(original.size(), 2u + 3u + 4u + 2u);  // projects, releases, files, tokens
  EXPECT_EQ(Dump(*copy), original);
}

// Expiry is stored as given (0: never); TouchToken only ever moves the last use forward, and
// names an unknown token kNotFound.
TEST_P(CatalogConformanceTest, TokensKeepExpiryAndLastUse) {
  TokenRecord expiring = Token("expiring", "s1", {"read"});
  expiring.expires_ms = 1'800'000'000'000;
  ASSERT_TRUE(catalog_->AddToken(expiring).ok());
  ASSERT_TRUE(catalog_->AddToken(Token("forever", "s2", {"read"})).ok());

  auto found = catalog_->FindTokenByHash(Sha256Hex("s1"));
  ASSERT_TRUE(found.has_value() && found->has_value());
  EXPECT_EQ((*found)->expires_ms, 1'800'000'000'000);
  EXPECT_EQ((*found)->last_used_ms, 0);
  found = catalog_->FindTokenByHash(Sha256Hex("s2"));
  ASSERT_TRUE(found.has_value() && found->has_value());
  EXPECT_EQ((*found)->expires_ms, 0);

  ASSERT_TRUE(catalog_->TouchToken("expiring", 1'700'000'060'000).ok());
  ASSERT_TRUE(catalog_->TouchToken("expiring", 1'700'000'000'000).ok());  // older: ignored
  auto list = catalog_->ListTokens();
  ASSERT_TRUE(list.has_value());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].name, "expiring");
  EXPECT_EQ((*list)[0].last_used_ms, 1'700'000'060'000);
  EXPECT_EQ((*list)[0].expires_ms, 1'800'000'000'000);
  EXPECT_EQ((*list)[1].last_used_ms, 0);
  EXPECT_EQ(catalog_->TouchToken("nobody", 1).code(), StatusCode::kNotFound);
}

TEST_P(CatalogConformanceTest, DuplicateTokenNameIsRefused) {
  ASSERT_TRUE(catalog_->AddToken(Token("ci", "s1", {"read"})).ok());
  EXPECT_EQ(catalog_->AddToken(Token("ci", "s2", {"admin"})).code(), StatusCode::kAlreadyExists);
  auto found = catalog_->FindTokenByHash(Sha256Hex("s2"));
  ASSERT_TRUE(found.has_value());
  EXPECT_FALSE(found->has_value());
}

TEST_P(CatalogConformanceTest, ConcurrentUploadsOfOneFilenameHaveOneWinner) {
  constexpr int kThreads = 16;
  std::vector<Result<AddFileOutcome>> results(kThreads, Result<AddFileOutcome>(Internal("")));
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      while (!go.load()) {
        std::this_thread::yield();
      }
      results[t] = catalog_->AddFile(TestFile("race", "1.0", std::to_string(t)), Meta("Race", ""));
    });
  }
  go.store(true);
  for (auto& th : threads) {
    th.join();
  }
  int created = 0;
  int winner = -1;
  for (int t = 0; t < kThreads; ++t) {
    if (results[t].has_value()) {
      EXPECT_EQ(*results[t], AddFileOutcome::kCreated);
      ++created;
      winner = t;
    } else {
      EXPECT_EQ(results[t].error().code(), StatusCode::kAlreadyExists)
          << results[t].error().ToString();
    }
  }
  ASSERT_EQ(created, 1);
  auto stored = catalog_->FindFile("python", TestFile("race", "1.0").project, TestFile("race", "1.0").filename);
  ASSERT_TRUE(stored.has_value() && stored->has_value());
  EXPECT_EQ((*stored)->sha256, TestFile("race", "1.0", std::to_string(winner)).sha256);
}

TEST_P(CatalogConformanceTest, ConcurrentUploadsToANewProjectShareOneProjectAndRelease) {
  constexpr int kThreads = 8;
  std::vector<Status> results(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      FileRecord f = TestFile("fresh", "1.0");
      f.filename = "fresh-1.0-cp3" + std::to_string(t) + "-none-any.whl";
      results[t] = catalog_->AddFile(f, Meta("Fresh", "")).status();
    });
  }
  for (auto& th : threads) {
    th.join();
  }
  for (const Status& s : results) {
    EXPECT_TRUE(s.ok()) << s.ToString();
  }
  auto projects = catalog_->ListProjects("python");
  ASSERT_TRUE(projects.has_value());
  EXPECT_EQ(projects->size(), 1u);
  auto releases = catalog_->ListReleases("python", "fresh");
  ASSERT_TRUE(releases.has_value());
  EXPECT_EQ(releases->size(), 1u);
  auto files = catalog_->ListFiles("python", "fresh");
  ASSERT_TRUE(files.has_value());
  EXPECT_EQ(files->size(), static_cast<std::size_t>(kThreads));
}

}  // namespace
}  // namespace pipy::catalog
