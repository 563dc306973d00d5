#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "builder/git_source.h"
#include "builder/test_repo.h"
#include "testing/temp_dir.h"

namespace pipy::builder {
namespace {

using testing::TestRepo;

class GitSourceTest : public ::testing::Test {
 protected:
  std::unique_ptr<GitSource> Open() {
    auto source = OpenLibgit2Source(repo_.path().string(), mirror_.path() / "git");
    EXPECT_TRUE(source.has_value()) << source.error().ToString();
    return source ? std::move(*source) : nullptr;
  }

  TestRepo repo_;
  pipy::testing::TempDir mirror_{"pipy-mirror"};
};

TEST_F(GitSourceTest, FetchesTheBranchHeadAndListsModules) {
  repo_.WriteModule("logger", "acme-logger", "1.0");
  repo_.WriteModule("redis", "acme-redis", "2.0");
  repo_.Write("docs/index.md", "# docs\n");  // a folder without pyproject.toml
  repo_.Write("README.md", "hi\n");
  std::string first = repo_.Commit("first");
  auto git = Open();
  ASSERT_NE(git, nullptr);
  ASSERT_TRUE(git->Fetch().ok());
  auto head = git->BranchHead("main");
  ASSERT_TRUE(head.has_value()) << head.error().ToString();
  EXPECT_EQ(*head, first);
  EXPECT_EQ(git->BranchHead("nope").error().code(), StatusCode::kNotFound);
  auto modules = git->ListModules(first);
  ASSERT_TRUE(modules.has_value());
  EXPECT_EQ(*modules, (std::vector<std::string>{"logger", "redis"}));

  auto text = git->ReadFile(first, "logger/pyproject.toml");
  ASSERT_TRUE(text.has_value() && text->has_value());
  EXPECT_NE((*text)->find("acme-logger"), std::string::npos);
  auto missing = git->ReadFile(first, "logger/nope.toml");
  ASSERT_TRUE(missing.has_value());
  EXPECT_FALSE(missing->has_value());

  // A new commit is seen only after the next fetch; a prefix resolves to the full sha.
  repo_.Write("logger/logger.py", "VALUE = 2\n");
  std::string second = repo_.Commit("second");
  EXPECT_EQ(git->BranchHead("main").value_or(""), first);
  ASSERT_TRUE(git->Fetch().ok());
  EXPECT_EQ(git->BranchHead("main").value_or(""), second);
  EXPECT_EQ(git->ResolveCommit(second.substr(0, 10)).value_or(""), second);
  EXPECT_FALSE(git->ResolveCommit("deadbeefdeadbeef").has_value());
}

TEST_F(GitSourceTest, ChangedFoldersCoverEditsRenamesAndDeletions) {
  repo_.WriteModule("a", "acme-a", "1.0");
  repo_.WriteModule("b", "acme-b", "1.0");
  repo_.WriteModule("c", "acme-c", "1.0");
  std::string base = repo_.Commit("base");
  repo_.Write("a/a.py", "VALUE = 2\n");
  std::string edit = repo_.Commit("edit a");
  repo_.Git("mv b b2");
  std::string rename = repo_.Commit("rename b");
  repo_.Git("rm -r -q c");
  std::string remove = repo_.Commit("delete c");
  repo_.Write("README.md", "docs only\n");
  std::string docs = repo_.Commit("docs");
  auto git = Open();
  ASSERT_NE(git, nullptr);
  ASSERT_TRUE(git->Fetch().ok());

  using Set = std::set<std::string>;
  EXPECT_EQ(git->ChangedFolders(base, edit).value_or(Set{"error"}), Set{"a"});
  EXPECT_EQ(git->ChangedFolders(edit, rename).value_or(Set{"error"}), (Set{"b", "b2"}));
  EXPECT_EQ(git->ChangedFolders(rename, remove).value_or(Set{"error"}), Set{"c"});
  EXPECT_EQ(git->ChangedFolders(remove, docs).value_or(Set{"error"}), Set{});
  EXPECT_EQ(git->ChangedFolders(base, docs).value_or(Set{"error"}),
            (Set{"a", "b", "b2", "c"}));
  EXPECT_EQ(git->ChangedFolders(std::string(40, '1'), docs).error().code(),
            StatusCode::kNotFound);
}

TEST_F(GitSourceTest, OtherBranchesAreFetchedButDoNotMoveMain) {
  repo_.WriteModule("a", "acme-a", "1.0");
  std::string main_head = repo_.Commit("main");
  repo_.Git("checkout -q -b feature");
  repo_.Write("a/a.py", "VALUE = 3\n");
  std::string feature = repo_.Commit("feature");
  auto git = Open();
  ASSERT_NE(git, nullptr);
  ASSERT_TRUE(git->Fetch().ok());
  EXPECT_EQ(git->BranchHead("main").value_or(""), main_head);
  EXPECT_EQ(git->BranchHead("feature").value_or(""), feature);
}

TEST_F(GitSourceTest, ChecksOutOneFolderWithModesAndSubfolders) {
  repo_.WriteModule("a", "acme-a", "1.0");
  repo_.Write("a/pkg/__init__.py", "X = 1\n");
  repo_.Write("a/run.sh", "#!/bin/sh\necho hi\n");
  ::chmod((repo_.path() / "a/run.sh").c_str(), 0755);
  repo_.Write("b/other.txt", "not mine\n");
  std::string commit = repo_.Commit("files");
  auto git = Open();
  ASSERT_NE(git, nullptr);
  ASSERT_TRUE(git->Fetch().ok());
  std::filesystem::path dest = mirror_.path() / "out";
  ASSERT_TRUE(git->CheckoutFolder(commit, "a", dest).ok());
  EXPECT_TRUE(std::filesystem::exists(dest / "pyproject.toml"));
  std::ifstream init(dest / "pkg" / "__init__.py");
  std::string line;
  std::getline(init, line);
  EXPECT_EQ(line, "X = 1");
  struct stat st;
  ASSERT_EQ(::stat((dest / "run.sh").c_str(), &st), 0);
  EXPECT_TRUE(st.st_mode & S_IXUSR);
  EXPECT_FALSE(std::filesystem::exists(dest / "other.txt"));
  EXPECT_FALSE(std::filesystem::exists(dest / "b"));
  EXPECT_EQ(git->CheckoutFolder(commit, "zzz", mirror_.path() / "none").code(),
            StatusCode::kNotFound);
}

TEST_F(GitSourceTest, ReopeningAnExistingMirrorWorks) {
  repo_.WriteModule("a", "acme-a", "1.0");
  std::string commit = repo_.Commit("one");
  {
    auto git = Open();
    ASSERT_NE(git, nullptr);
    ASSERT_TRUE(git->Fetch().ok());
  }
  auto again = Open();
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(again->BranchHead("main").value_or(""), commit) << "the mirror kept its refs";
  ASSERT_TRUE(again->Fetch().ok());
}

// The watcher polls one source for the server's life: each fetch must see the new head
// through the same remote object, and leave nothing behind (under ASan with
// fast_unwind_on_malloc=0 LeakSanitizer suppresses libgit2's leak only where a source makes
// its remote; see tests/sanitizers/lsan.supp).
TEST_F(GitSourceTest, ManyFetchesThroughOneSourceEachSeeTheNewHead) {
  repo_.WriteModule("a", "acme-a", "1.0");
  repo_.Commit("zero");
  auto git = Open();
  ASSERT_NE(git, nullptr);
  for (int i = 0; i < 25; ++i) {
    repo_.Write("a/a.py", "VALUE = " + std::to_string(i) + "\n");
    std::string commit = repo_.Commit("change " + std::to_string(i));
    ASSERT_TRUE(git->Fetch().ok()) << "fetch " << i;
    ASSERT_EQ(git->BranchHead("main").value_or(""), commit) << "fetch " << i;
  }
}

TEST_F(GitSourceTest, AnUnreachableRemoteIsUnavailable) {
  auto git = OpenLibgit2Source((mirror_.path() / "no-such-repo").string(), mirror_.path() / "git");
  ASSERT_TRUE(git.has_value());
  EXPECT_EQ((*git)->Fetch().code(), StatusCode::kUnavailable);
}

// The descriptors this process holds open.
std::size_t OpenDescriptors() {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& entry :
       std::filesystem::directory_iterator("/proc/self/fd")) {
    ++n;
  }
  return n;
}

TEST_F(GitSourceTest, OpenPacksStayBoundedOverManyFetches) {
  std::unique_ptr<GitSource> git = Open();
  ASSERT_NE(git, nullptr);
  repo_.WriteModule("logger", "acme-logger", "1.0");
  repo_.Commit("first");
  ASSERT_TRUE(git->Fetch().ok());
  const std::size_t before = OpenDescriptors();
  // Each fetch adds a pack to the mirror; reading the new commit opens it.
  for (int i = 0; i < 60; ++i) {
    repo_.Write("logger/v.txt", std::to_string(i));
    std::string head = repo_.Commit("change " + std::to_string(i));
    ASSERT_TRUE(git->Fetch().ok());
    auto file = git->ReadFile(head, "logger/v.txt");
    ASSERT_TRUE(file.has_value() && file->has_value());
  }
  EXPECT_LE(OpenDescriptors(), before + 40) << "one descriptor kept per fetched pack";
}

}  // namespace
}  // namespace pipy::builder
