// The conformance suite, continued: the audit log — append, newest-first listing, each
// filter, keyset paging, and the uid that makes copying records idempotent.
#include <set>

#include "catalog/catalog_conformance.h"

namespace pipy::catalog {
namespace {

AuditRecord Entry(std::string action, std::string project, std::string token,
                  std::int64_t time_ms) {
  AuditRecord r;
  r.time_ms = time_ms;
  r.token = std::move(token);
  r.address = "10.1.2.3";
  r.action = std::move(action);
  r.format = "python";
  r.project = std::move(project);
  r.target = "1.0 x-1.0.tar.gz";
  r.outcome = "ok";
  return r;
}

std::vector<AuditRecord> List(Catalog& catalog, const AuditQuery& query) {
  auto records = catalog.ListAudit(query);
  EXPECT_TRUE(records.has_value()) << records.status().ToString();
  return records.value_or(std::vector<AuditRecord>{});
}

TEST_P(CatalogConformanceTest, AuditRecordsComeBackNewestFirstWithEveryField) {
  EXPECT_TRUE(List(*catalog_, {}).empty());
  AuditRecord first = Entry("publish", "acme-logger", "ci", 1'700'000'000'001);
  first.outcome = "denied: token 'ci' may not upload to project 'acme-logger'";
  ASSERT_TRUE(catalog_->AppendAudit(first).ok());
  ASSERT_TRUE(catalog_->AppendAudit(Entry("yank", "acme-logger", "ci", 1'700'000'000'002)).ok());

  std::vector<AuditRecord> all = List(*catalog_, {});
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].action, "yank");
  EXPECT_GT(all[0].id, all[1].id);
  const AuditRecord& r = all[1];
  EXPECT_EQ(r.time_ms, 1'700'000'000'001);
  EXPECT_EQ(r.token, "ci");
  EXPECT_EQ(r.address, "10.1.2.3");
  EXPECT_EQ(r.action, "publish");
  EXPECT_EQ(r.format, "python");
  EXPECT_EQ(r.project, "acme-logger");
  EXPECT_EQ(r.target, "1.0 x-1.0.tar.gz");
  EXPECT_EQ(r.outcome, first.outcome);
  EXPECT_EQ(r.uid.size(), 32u);  // a fresh random one
  EXPECT_NE(r.uid, all[0].uid);
}

TEST_P(CatalogConformanceTest, AuditAppendDoesNotMoveTheChangeSequence) {
  auto before = catalog_->ChangeSequence();
  ASSERT_TRUE(before.has_value());
  ASSERT_TRUE(catalog_->AppendAudit(Entry("publish", "a", "t", 1)).ok());
  auto after = catalog_->ChangeSequence();
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(*before, *after);
}

TEST_P(CatalogConformanceTest, AuditNeedsAnActionAndAnOutcome) {
  AuditRecord r = Entry("", "a", "t", 1);
  EXPECT_EQ(catalog_->AppendAudit(r).code(), StatusCode::kInvalidArgument);
  r = Entry("publish", "a", "t", 1);
  r.outcome.clear();
  EXPECT_EQ(catalog_->AppendAudit(r).code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(List(*catalog_, {}).empty());
}

TEST_P(CatalogConformanceTest, AuditFiltersByProjectTokenActionAndTime) {
  ASSERT_TRUE(catalog_->AppendAudit(Entry("publish", "a", "alice", 1000)).ok());
  ASSERT_TRUE(catalog_->AppendAudit(Entry("publish", "b", "bob", 2000)).ok());
  ASSERT_TRUE(catalog_->AppendAudit(Entry("yank", "a", "bob", 3000)).ok());
  ASSERT_TRUE(catalog_->AppendAudit(Entry("token.create", "", "alice", 4000)).ok());

  auto actions = [&](const AuditQuery& q) {
    std::vector<std::string> out;
    for (const AuditRecord& r : List(*catalog_, q)) {
      out.push_back(r.action + "/" + r.project + "/" + r.token);
    }
    return out;
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(actions({.project = "a"}), (V{"yank/a/bob", "publish/a/alice"}));
  EXPECT_EQ(actions({.token = "alice"}), (V{"token.create//alice", "publish/a/alice"}));
  EXPECT_EQ(actions({.action = "publish"}), (V{"publish/b/bob", "publish/a/alice"}));
  EXPECT_EQ(actions({.since_ms = 2000}), (V{"token.create//alice", "yank/a/bob", "publish/b/bob"}));
  EXPECT_EQ(actions({.project = "a", .token = "bob", .action = "yank"}), (V{"yank/a/bob"}));
  EXPECT_EQ(actions({.project = "a", .action = "token.create"}), V{});
  EXPECT_EQ(actions({.project = "A"}), V{});  // stored names are matched exactly
}

TEST_P(CatalogConformanceTest, AuditPagesByIdWithoutGapsOrRepeats) {
  for (int i = 0; i < 25; ++i) {
    ASSERT_TRUE(catalog_->AppendAudit(Entry("publish", "p", "t", 1000 + i)).ok());
  }
  std::set<std::int64_t> seen;
  std::int64_t before = 0;
  int pages = 0;
  for (;;) {
    std::vector<AuditRecord> page = List(*catalog_, {.before_id = before, .limit = 10});
    if (page.empty()) {
      break;
    }
    ++pages;
    ASSERT_LE(page.size(), 10u);
    for (const AuditRecord& r : page) {
      EXPECT_TRUE(seen.insert(r.id).second) << "record " << r.id << " listed twice";
      if (before != 0) {
        EXPECT_LT(r.id, before);
      }
    }
    before = page.back().id;
    // A record appended while paging lands above the cursor: later pages are not shifted.
    if (pages == 1) {
      ASSERT_TRUE(catalog_->AppendAudit(Entry("yank", "p", "t", 5000)).ok());
    }
  }
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(seen.size(), 25u);
}

TEST_P(CatalogConformanceTest, AuditRecordWithAStoredUidIsNotStoredTwice) {
  AuditRecord r = Entry("publish", "p", "t", 1000);
  r.uid = "0123456789abcdef0123456789abcdef";
  ASSERT_TRUE(catalog_->AppendAudit(r).ok());
  ASSERT_TRUE(catalog_->AppendAudit(r).ok());
  std::vector<AuditRecord> all = List(*catalog_, {});
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].uid, r.uid);
}

}  // namespace
}  // namespace pipy::catalog
