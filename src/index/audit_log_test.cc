// The audit records the index writes: every change and every refusal of one, with the
// caller's token and address, the target and the outcome; the admin override of the
// new-project (hijack) check as its own action; and a failing append never failing the
// change it describes.
#include "index/audit_log.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <fstream>

#include "catalog/factory.h"
#include "index/index.h"
#include "storage/factory.h"
#include "testing/temp_dir.h"

namespace pipy::index {
namespace {

constexpr std::int64_t kNow = 1'700'000'000'000;

// Lowercase names, integer versions: all the index needs of a format.
class ToyFormat final : public Format {
 public:
  std::string_view name() const override { return "toy"; }
  Result<std::string> NormalizeName(std::string_view name) const override {
    if (name.empty() || name.find_first_not_of("abcdefghijklmnopqrstuvwxyz-") != name.npos) {
      return InvalidArgument("invalid toy name '" + std::string(name) + "'");
    }
    return std::string(name);
  }
  Result<FormatVersion> ParseVersion(std::string_view version) const override {
    if (version.empty() || version.find_first_not_of("0123456789") != version.npos) {
      return InvalidArgument("invalid toy version '" + std::string(version) + "'");
    }
    return FormatVersion{std::string(version), std::string(version)};
  }
  bool Newer(std::string_view a, std::string_view b) const override {
    return std::stoul(std::string(a)) > std::stoul(std::string(b));
  }
};

class AuditLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    storage::StorageOptions storage_options;
    storage_options.root = tmp_.path() / "data";
    auto blobs = storage::MakeBlobStore(storage_options);
    ASSERT_TRUE(blobs) << blobs.error().ToString();
    blobs_ = std::move(*blobs);
    catalog::CatalogOptions catalog_options;
    catalog_options.sqlite_path = tmp_.path() / "data" / "catalog.db";
    auto catalog = catalog::MakeCatalog(catalog_options);
    ASSERT_TRUE(catalog) << catalog.error().ToString();
    catalog_ = std::move(*catalog);
    IndexOptions options;
    options.clock = [] { return kNow; };
    index_ = std::make_unique<Index>(*blobs_, *catalog_, options);
    uploader_.anonymous = false;
    uploader_.token_name = "ci";
    uploader_.scopes = {"upload:acme-*"};
    uploader_.address = "10.0.0.7";
    admin_.anonymous = false;
    admin_.token_name = "root";
    admin_.scopes = {"admin"};
    admin_.address = "10.0.0.1";
  }

  PublishRequest Request(const std::string& project, const std::string& version,
                         const std::string& bytes = "bytes") {
    std::filesystem::path file = tmp_.path() / ("f" + std::to_string(++counter_));
    std::ofstream(file, std::ios::binary) << bytes;
    PublishRequest r;
    r.project = project;
    r.version = version;
    r.filename = project + "-" + version + ".toy";
    r.file = file;
    r.uploader = "ci";
    return r;
  }

  // Every record, oldest first.
  std::vector<catalog::AuditRecord> Records() {
    auto records = catalog_->ListAudit({.limit = 1000});
    EXPECT_TRUE(records.has_value()) << records.status().ToString();
    std::vector<catalog::AuditRecord> out = records.value_or(std::vector<catalog::AuditRecord>{});
    std::reverse(out.begin(), out.end());
    return out;
  }

  static std::string Line(const catalog::AuditRecord& r) {
    return r.action + " " + r.token + "@" + r.address + " " + r.format + "/" + r.project + " [" +
           r.target + "] " + r.outcome;
  }

  std::vector<std::string> Lines() {
    std::vector<std::string> out;
    for (const auto& r : Records()) {
      out.push_back(Line(r));
    }
    return out;
  }

  pipy::testing::TempDir tmp_;
  std::unique_ptr<storage::BlobStore> blobs_;
  std::unique_ptr<catalog::Catalog> catalog_;
  std::unique_ptr<Index> index_;
  ToyFormat toy_;
  auth::Principal uploader_;
  auth::Principal admin_;
  int counter_ = 0;
};

TEST_F(AuditLogTest, PublishesAndTheirRefusalsAreRecorded) {
  ASSERT_TRUE(index_->Publish(uploader_, toy_, Request("acme-log", "1")).has_value());
  ASSERT_TRUE(index_->Publish(uploader_, toy_, Request("acme-log", "1")).has_value());  // no-op
  EXPECT_EQ(index_->Publish(uploader_, toy_, Request("acme-log", "1", "other")).status().code(),
            StatusCode::kAlreadyExists);
  EXPECT_EQ(index_->Publish(uploader_, toy_, Request("other", "1")).status().code(),
            StatusCode::kPermissionDenied);

  std::vector<std::string> lines = Lines();
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0], "publish ci@10.0.0.7 toy/acme-log [1 acme-log-1.toy] ok");
  EXPECT_EQ(lines[1],
            "publish ci@10.0.0.7 toy/acme-log [1 acme-log-1.toy] ok: unchanged (the identical "
            "file exists)");
  EXPECT_TRUE(lines[2].starts_with("publish ci@10.0.0.7 toy/acme-log [1 acme-log-1.toy] refused: "))
      << lines[2];
  EXPECT_EQ(lines[3],
            "publish ci@10.0.0.7 toy/other [1 other-1.toy] denied: token 'ci' may not upload to "
            "project 'other'");
  EXPECT_EQ(Records()[0].time_ms, kNow);
}

TEST_F(AuditLogTest, ReleaseChangesAndTakedownsAreRecorded) {
  ASSERT_TRUE(index_->Publish(uploader_, toy_, Request("acme-log", "1")).has_value());
  ASSERT_TRUE(index_->Publish(uploader_, toy_, Request("acme-log", "2")).has_value());
  ASSERT_TRUE(index_->SetYanked(uploader_, toy_, "acme-log", "1", true, "broken").ok());
  ASSERT_TRUE(index_->SetYanked(uploader_, toy_, "acme-log", "1", false, "").ok());
  ASSERT_TRUE(index_->SetDeprecated(uploader_, toy_, "acme-log", "1", "use 2").ok());
  ASSERT_TRUE(index_->SetTag(uploader_, toy_, "acme-log", "beta", "2").ok());
  ASSERT_TRUE(index_->RemoveTag(uploader_, toy_, "acme-log", "beta").ok());
  EXPECT_EQ(index_->SetYanked(uploader_, toy_, "acme-log", "9", true, "").code(),
            StatusCode::kNotFound);
  EXPECT_EQ(index_->RemoveRelease(uploader_, toy_, "acme-log", "1").code(),
            StatusCode::kPermissionDenied);
  ASSERT_TRUE(index_->RemoveFile(admin_, toy_, "acme-log", "acme-log-2.toy").ok());
  ASSERT_TRUE(index_->RemoveRelease(admin_, toy_, "acme-log", "1").ok());

  std::vector<std::string> lines = Lines();
  ASSERT_EQ(lines.size(), 11u);
  EXPECT_EQ(lines[2], "yank ci@10.0.0.7 toy/acme-log [1] ok");
  EXPECT_EQ(lines[3], "unyank ci@10.0.0.7 toy/acme-log [1] ok");
  EXPECT_EQ(lines[4], "deprecate ci@10.0.0.7 toy/acme-log [1] ok");
  EXPECT_EQ(lines[5], "tag.set ci@10.0.0.7 toy/acme-log [beta 2] ok");
  EXPECT_EQ(lines[6], "tag.remove ci@10.0.0.7 toy/acme-log [beta] ok");
  EXPECT_TRUE(lines[7].starts_with("yank ci@10.0.0.7 toy/acme-log [9] refused: ")) << lines[7];
  EXPECT_EQ(lines[8],
            "takedown.release ci@10.0.0.7 toy/acme-log [1] denied: removing releases and files "
            "needs an admin token");
  EXPECT_EQ(lines[9], "takedown.file root@10.0.0.1 toy/acme-log [acme-log-2.toy] ok");
  EXPECT_EQ(lines[10], "takedown.release root@10.0.0.1 toy/acme-log [1] ok");
}

TEST_F(AuditLogTest, AnAdminOverridingTheHijackRefusalIsItsOwnAction) {
  // As upstream::DecideNewProject: admins pass; "acme-public" exists upstream.
  index_->SetNewProjectCheck(
      [](const auth::Principal& who, std::string_view, std::string_view name) -> Status {
        if (who.IsAdmin() || name != "acme-public") {
          return Status::Ok();
        }
        return AlreadyExists("'acme-public' exists on the upstream");
      });
  EXPECT_EQ(index_->Publish(uploader_, toy_, Request("acme-public", "1")).status().code(),
            StatusCode::kAlreadyExists);
  ASSERT_TRUE(index_->Publish(admin_, toy_, Request("acme-public", "1")).has_value());
  ASSERT_TRUE(index_->Publish(admin_, toy_, Request("acme-fresh", "1")).has_value());
  // The project exists now: no check, no override.
  ASSERT_TRUE(index_->Publish(admin_, toy_, Request("acme-public", "2")).has_value());

  std::vector<catalog::AuditRecord> records = Records();
  ASSERT_EQ(records.size(), 4u);
  EXPECT_EQ(records[0].action, "publish");
  EXPECT_EQ(records[0].outcome, "refused: 'acme-public' exists on the upstream");
  EXPECT_EQ(records[1].action, "publish.shadow_override");
  EXPECT_EQ(records[1].token, "root");
  EXPECT_EQ(records[1].outcome, "ok");
  EXPECT_EQ(records[2].action, "publish");
  EXPECT_EQ(records[3].action, "publish");
}

TEST_F(AuditLogTest, AFailedAppendDoesNotFailTheChange) {
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((tmp_.path() / "data" / "catalog.db").c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "DROP TABLE audit", nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
  }
  auto published = index_->Publish(uploader_, toy_, Request("acme-log", "1"));
  ASSERT_TRUE(published.has_value()) << published.status().ToString();
  EXPECT_TRUE(index_->SetYanked(uploader_, toy_, "acme-log", "1", true, "").ok());
}

TEST_F(AuditLogTest, PrincipalsWithoutAnAddressAreLocal) {
  auth::Principal builder = uploader_;
  builder.token_name = "builder:mono";
  builder.address.clear();
  ASSERT_TRUE(index_->Publish(builder, toy_, Request("acme-log", "1")).has_value());
  EXPECT_EQ(Records().at(0).address, "local");
}

TEST(AuditOutcomeTest, NamesTheKindOfRefusal) {
  EXPECT_EQ(AuditOutcome(Status::Ok()), "ok");
  EXPECT_EQ(AuditOutcome(PermissionDenied("no")), "denied: no");
  EXPECT_EQ(AuditOutcome(Unauthenticated("who")), "denied: who");
  EXPECT_EQ(AuditOutcome(AlreadyExists("taken")), "refused: taken");
  EXPECT_EQ(AuditOutcome(InvalidArgument("bad")), "refused: bad");
  EXPECT_EQ(AuditOutcome(Unavailable("down")), "failed: down");
  std::string outcome = AuditOutcome(InvalidArgument(std::string(1000, 'x')));
  EXPECT_LT(outcome.size(), 320u);
}

}  // namespace
}  // namespace pipy::index
