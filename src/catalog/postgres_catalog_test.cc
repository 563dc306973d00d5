#include "catalog/postgres_catalog.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <thread>
#include <utility>
#include <vector>

#include "catalog/catalog_conformance.h"
#include "catalog/factory.h"
#include "catalog/postgres_test_util.h"

namespace pipy::catalog {
namespace {

using namespace std::chrono_literals;

std::unique_ptr<PostgresCatalog> OpenCatalog(const std::string& url, std::size_t pool_size = 8) {
  auto catalog = PostgresCatalog::Open(PostgresOptions{url, pool_size});
  if (!catalog.has_value()) {
    ADD_FAILURE() << catalog.error().ToString();
    return nullptr;
  }
  return std::move(catalog).value();
}

std::unique_ptr<Catalog> FreshPostgresCatalog() {
  std::string url = pgtest::FreshSchemaUrl();
  if (url.empty()) {
    return nullptr;
  }
  return OpenCatalog(url);
}

INSTANTIATE_TEST_SUITE_P(
    Postgres, CatalogConformanceTest,
    ::testing::Values(CatalogConformanceParam{"postgres", FreshPostgresCatalog}),
    CatalogConformanceName);

ReleaseMetadata Meta() {
  ReleaseMetadata m;
  m.display_name = "Acme";
  m.summary = "summary";
  return m;
}

// Counts the notifications a watch reports per project, for waiting on them.
class Notifications {
 public:
  std::function<void(std::string_view)> Callback() {
    return [this](std::string_view project) {
      std::lock_guard lock(mu_);
      ++counts_[std::string(project)];
      cv_.notify_all();
    };
  }
  // True once `project` was reported at least `count` times (waiting up to `timeout`).
  bool WaitFor(const std::string& project, std::chrono::milliseconds timeout, int count = 1) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return counts_[project] >= count; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, int> counts_;
};

class PostgresCatalogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    url_ = pgtest::FreshSchemaUrl();
    ASSERT_FALSE(url_.empty());
  }

  std::string url_;
};

TEST_F(PostgresCatalogTest, TwoNodesRacingOneFilenameHaveOneWinner) {
  auto a = OpenCatalog(url_);
  auto b = OpenCatalog(url_);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  constexpr int kThreads = 16;
  for (bool identical : {false, true}) {
    const std::string version = identical ? "2.0" : "1.0";
    std::vector<Result<AddFileOutcome>> results(kThreads, Result<AddFileOutcome>(Internal("")));
    std::atomic<bool> go{false};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        while (!go.load()) {
          std::this_thread::yield();
        }
        PostgresCatalog& node = t % 2 == 0 ? *a : *b;
        results[t] = node.AddFile(
            TestFile("race", version, identical ? "same" : std::to_string(t)), Meta());
      });
    }
    go.store(true);
    for (auto& th : threads) {
      th.join();
    }
    int created = 0;
    for (const auto& result : results) {
      if (!result.has_value()) {
        EXPECT_FALSE(identical) << result.error().ToString();
        EXPECT_EQ(result.error().code(), StatusCode::kAlreadyExists) << result.error().ToString();
        continue;
      }
      if (*result == AddFileOutcome::kCreated) {
        ++created;
      } else {
        EXPECT_TRUE(identical) << "kIdenticalExists for different bytes";
      }
    }
    EXPECT_EQ(created, 1) << (identical ? "identical" : "different") << " uploads";
    auto files = b->ListFiles("python", "race");
    ASSERT_TRUE(files.has_value());
    EXPECT_EQ(files->size(), identical ? 2u : 1u);
  }
}

TEST_F(PostgresCatalogTest, ConcurrentOpensApplyEachMigrationOnce) {
  constexpr int kNodes = 4;
  std::vector<std::unique_ptr<PostgresCatalog>> nodes(kNodes);
  std::vector<std::string> errors(kNodes);
  std::vector<std::thread> threads;
  for (int i = 0; i < kNodes; ++i) {
    threads.emplace_back([&, i] {
      auto opened = PostgresCatalog::Open(PostgresOptions{url_, 2});
      if (opened.has_value()) {
        nodes[i] = std::move(opened).value();
      } else {
        errors[i] = opened.error().ToString();
      }
    });
  }
  for (auto& th : threads) {
    th.join();
  }
  for (int i = 0; i < kNodes; ++i) {
    ASSERT_NE(nodes[i], nullptr) << errors[i];
  }
  auto applied = nodes[0]->AppliedMigrations();
  ASSERT_TRUE(applied.has_value()) << applied.status().ToString();
  ASSERT_FALSE(applied->empty());
  for (std::size_t i = 0; i < applied->size(); ++i) {
    EXPECT_EQ((*applied)[i].first, static_cast<std::int64_t>(i + 1));
  }
  // One meta row: the initial migration did not run twice.
  EXPECT_EQ(pgtest::Query(url_, "SELECT count(*) FROM meta"), "1");

  // Reopening later applies nothing new either.
  auto again = OpenCatalog(url_);
  ASSERT_NE(again, nullptr);
  auto reapplied = again->AppliedMigrations();
  ASSERT_TRUE(reapplied.has_value());
  EXPECT_EQ(*reapplied, *applied);
}

TEST_F(PostgresCatalogTest, NewerSchemaIsRefused) {
  ASSERT_NE(OpenCatalog(url_), nullptr);
  ASSERT_EQ(pgtest::Query(url_, "INSERT INTO schema_migrations VALUES (999, 0)"), "");
  auto catalog = PostgresCatalog::Open(PostgresOptions{url_, 1});
  ASSERT_FALSE(catalog.has_value());
  EXPECT_NE(catalog.error().message().find("999"), std::string::npos)
      << catalog.error().ToString();
}

TEST_F(PostgresCatalogTest, WatchChangesDeliversWritesFromAnotherNode) {
  auto a = OpenCatalog(url_);
  auto b = OpenCatalog(url_);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  Notifications seen;
  auto watch = a->WatchChanges(seen.Callback());
  ASSERT_TRUE(watch.has_value()) << watch.status().ToString();
  ASSERT_NE(*watch, nullptr);

  ASSERT_TRUE(b->AddFile(TestFile("watched", "1.0"), Meta()).has_value());
  EXPECT_TRUE(seen.WaitFor("watched", 2s, 1)) << "no notification for an upload on node b";
  ASSERT_TRUE(b->SetYanked("python", "watched", "1.0", true, "bad").ok());
  EXPECT_TRUE(seen.WaitFor("watched", 2s, 2)) << "no notification for a yank on node b";
  ASSERT_TRUE(b->SetYanked("python", "watched", "1.0", false, "").ok());
  EXPECT_TRUE(seen.WaitFor("watched", 2s, 3)) << "no notification for an un-yank on node b";

  // A refused write notifies nobody; after the watch is gone nothing is delivered.
  ASSERT_FALSE(b->AddFile(TestFile("watched", "1.0", "other"), Meta()).has_value());
  EXPECT_FALSE(seen.WaitFor("watched", 300ms, 4));
  watch->reset();
  ASSERT_TRUE(b->AddFile(TestFile("watched", "2.0"), Meta()).has_value());
  EXPECT_FALSE(seen.WaitFor("watched", 500ms, 4));
}

TEST_F(PostgresCatalogTest, EveryKindOfWriteNotifiesAndMovesTheSequence) {
  auto a = OpenCatalog(url_);
  auto b = OpenCatalog(url_);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  Notifications seen;
  auto watch = a->WatchChanges(seen.Callback());
  ASSERT_TRUE(watch.has_value()) << watch.status().ToString();
  ASSERT_NE(*watch, nullptr);
  ASSERT_TRUE(b->AddFile(TestFile("pkg", "1.0"), Meta()).has_value());
  ASSERT_TRUE(b->AddFile(TestFile("pkg", "2.0"), Meta()).has_value());
  ASSERT_TRUE(seen.WaitFor("pkg", 2s, 2));

  int expected = 2;
  const std::vector<std::pair<std::string, std::function<Status()>>> writes = {
      {"deprecate", [&] { return b->SetDeprecated("python", "pkg", "1.0", "use 2"); }},
      {"undeprecate", [&] { return b->SetDeprecated("python", "pkg", "1.0", ""); }},
      {"tag", [&] { return b->SetTag("python", "pkg", "latest", "1.0"); }},
      {"move tag", [&] { return b->SetTag("python", "pkg", "latest", "2.0"); }},
      {"untag", [&] { return b->RemoveTag("python", "pkg", "latest"); }},
      {"remove file",
       [&] { return b->RemoveFile("python", "pkg", TestFile("pkg", "2.0").filename, "admin"); }},
      {"remove release", [&] { return b->RemoveRelease("python", "pkg", "1.0", "admin"); }},
  };
  for (const auto& [what, write] : writes) {
    const std::int64_t before = a->ChangeSequence().value_or(-1);
    Status s = write();
    ASSERT_TRUE(s.ok()) << what << ": " << s.ToString();
    EXPECT_TRUE(seen.WaitFor("pkg", 2s, ++expected)) << "no notification for: " << what;
    EXPECT_GT(a->ChangeSequence().value_or(-1), before) << what;
  }
  // Writes that change nothing (or fail) move nothing and notify nobody.
  const std::int64_t settled = a->ChangeSequence().value_or(-1);
  ASSERT_TRUE(b->SetDeprecated("python", "pkg", "2.0", "").ok());
  EXPECT_EQ(b->SetTag("python", "pkg", "x", "1.0").code(), StatusCode::kNotFound);
  EXPECT_EQ(b->RemoveTag("python", "pkg", "latest").code(), StatusCode::kNotFound);
  EXPECT_EQ(b->RemoveRelease("python", "pkg", "1.0", "admin").code(), StatusCode::kNotFound);
  EXPECT_FALSE(seen.WaitFor("pkg", 300ms, expected + 1));
  EXPECT_EQ(a->ChangeSequence().value_or(-1), settled);
}

// READ COMMITTED lets an upload run beside a takedown of its release on another node: the
// upload must either land before the takedown (and be removed with it) or be refused by the
// tombstone, never re-create the removed release.
TEST_F(PostgresCatalogTest, UploadsRacingARemovalNeverResurrectTheRelease) {
  auto a = OpenCatalog(url_);
  auto b = OpenCatalog(url_);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  constexpr int kRounds = 20;
  constexpr int kUploaders = 4;
  for (int round = 0; round < kRounds; ++round) {
    const std::string version = std::to_string(round) + ".0";
    ASSERT_TRUE(a->AddFile(TestFile("takedown", version, "first"), Meta()).has_value());
    std::atomic<bool> removed{false};
    std::atomic<int> late_creations{0};
    std::vector<std::thread> uploaders;
    for (int t = 0; t < kUploaders; ++t) {
      uploaders.emplace_back([&, t] {
        for (int i = 0; i < 30; ++i) {
          const bool after = removed.load();
          FileRecord f = TestFile("takedown", version, std::to_string(t));
          f.filename = "takedown-" + version + "-" + std::to_string(t) + "-" + std::to_string(i) +
                       ".tar.gz";
          auto added = a->AddFile(f, Meta());
          if (added.has_value() && after) {
            ++late_creations;
          }
          if (!added.has_value()) {
            // The tombstone's answer, whichever statement of the upload met the removal.
            EXPECT_EQ(added.error().code(), StatusCode::kAlreadyExists)
                << added.error().ToString();
            EXPECT_NE(added.error().message().find("removed by an admin"), std::string::npos)
                << added.error().ToString();
          }
        }
      });
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2 + round % 5));
    Status s = b->RemoveRelease("python", "takedown", version, "admin");
    removed.store(true);
    for (auto& th : uploaders) {
      th.join();
    }
    ASSERT_TRUE(s.ok()) << s.ToString();
    EXPECT_EQ(late_creations.load(), 0) << "an upload started after the removal landed";
    auto releases = b->ListReleases("python", "takedown");
    ASSERT_TRUE(releases.has_value());
    for (const ReleaseRecord& r : *releases) {
      EXPECT_NE(r.version_key, version) << "the removed release " << version << " came back";
    }
  }
}

TEST(PostgresCatalogOutageTest, CallsFailFastWhileDownAndWorkAgainAfterARestart) {
  // A private server: stopping the shared one would break tests running beside this one.
  constexpr int kPort = 17433;
  ASSERT_EQ(pgtest::Service("start", kPort), 0);
  struct Stop {
    ~Stop() { pgtest::Service("stop", kPort); }
  } stop;
  const std::string url = pgtest::WithParam(
      "postgresql://postgres@127.0.0.1:" + std::to_string(kPort) + "/pipy_test",
      "connect_timeout", "2");
  auto catalog = OpenCatalog(url, 4);
  ASSERT_NE(catalog, nullptr);
  ASSERT_TRUE(catalog->AddFile(TestFile("before", "1.0"), Meta()).has_value());
  Notifications seen;
  auto watch = catalog->WatchChanges(seen.Callback());
  ASSERT_TRUE(watch.has_value());

  ASSERT_EQ(pgtest::Service("pause", kPort), 0);
  auto start = std::chrono::steady_clock::now();
  auto added = catalog->AddFile(TestFile("during", "1.0"), Meta());
  ASSERT_FALSE(added.has_value());
  EXPECT_EQ(added.error().code(), StatusCode::kUnavailable) << added.error().ToString();
  EXPECT_NE(added.error().message().find("pipy_test"), std::string::npos)
      << added.error().ToString();
  auto found = catalog->FindFile("python", "before", TestFile("before", "1.0").filename);
  ASSERT_FALSE(found.has_value());
  EXPECT_EQ(found.error().code(), StatusCode::kUnavailable);
  EXPECT_EQ(catalog->ChangeSequence().status().code(), StatusCode::kUnavailable);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s) << "calls hang while the server is down";

  ASSERT_EQ(pgtest::Service("resume", kPort), 0);
  auto again = catalog->AddFile(TestFile("after", "1.0"), Meta());
  ASSERT_TRUE(again.has_value()) << again.status().ToString();
  EXPECT_EQ(*again, AddFileOutcome::kCreated);
  auto before = catalog->FindFile("python", "before", TestFile("before", "1.0").filename);
  ASSERT_TRUE(before.has_value() && before->has_value());
  auto during = catalog->FindFile("python", "during", TestFile("during", "1.0").filename);
  ASSERT_TRUE(during.has_value()) << during.status().ToString();
  EXPECT_FALSE(during->has_value()) << "a failed upload left a row";
  // The listener reconnects by itself (backoff up to 5 s).
  bool notified = false;
  for (int i = 0; i < 40 && !notified; ++i) {
    ASSERT_TRUE(catalog->SetYanked("python", "after", "1.0", i % 2 == 0, "x").ok());
    notified = seen.WaitFor("after", 250ms);
  }
  EXPECT_TRUE(notified) << "the listener did not come back after the restart";
}

TEST(PostgresCatalogFactoryTest, UnreachableOrWrongDatabaseIsNamedAtStart) {
  CatalogOptions options;
  options.backend = "postgres";
  options.url = pgtest::WithParam(
      pgtest::BaseUrl().substr(0, pgtest::BaseUrl().rfind('/')) + "/no_such_database",
      "connect_timeout", "2");
  auto missing_db = MakeCatalog(options);
  ASSERT_FALSE(missing_db.has_value());
  EXPECT_EQ(missing_db.error().code(), StatusCode::kUnavailable);
  EXPECT_NE(missing_db.error().message().find("no_such_database"), std::string::npos)
      << missing_db.error().ToString();

  options.url = "postgresql://pipy@127.0.0.1:1/pipy?connect_timeout=2";
  auto unreachable = MakeCatalog(options);
  ASSERT_FALSE(unreachable.has_value());
  EXPECT_EQ(unreachable.error().code(), StatusCode::kUnavailable);
  EXPECT_NE(unreachable.error().message().find("database \"pipy\" on 127.0.0.1:1"),
            std::string::npos)
      << unreachable.error().ToString();

  options.url = "postgresql://nobody:secret@127.0.0.1:1:2:3/x";
  auto garbage = MakeCatalog(options);
  ASSERT_FALSE(garbage.has_value());
  EXPECT_EQ(garbage.error().message().find("secret"), std::string::npos);

  options.url = "";
  EXPECT_EQ(MakeCatalog(options).status().code(), StatusCode::kInvalidArgument);
}

TEST(PostgresCatalogFactoryTest, MakeCatalogOpensAWorkingCatalog) {
  CatalogOptions options;
  options.backend = "postgres";
  options.url = pgtest::FreshSchemaUrl();
  options.pool_size = 1;
  auto catalog = MakeCatalog(options);
  ASSERT_TRUE(catalog.has_value()) << catalog.error().ToString();
  // One connection serves several threads in turn.
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      ok += (*catalog)->AddFile(TestFile("p" + std::to_string(t), "1.0"), Meta()).has_value();
    });
  }
  for (auto& th : threads) {
    th.join();
  }
  EXPECT_EQ(ok.load(), 4);
}

}  // namespace
}  // namespace pipy::catalog
