// GitSource over libgit2: a bare mirror fetched with "+refs/heads/*:refs/remotes/origin/*".
// Folder checkouts walk the tree and write blobs directly, so no working tree is shared
// between concurrent builds.
#include <git2.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <mutex>

#include "builder/git_source.h"

namespace pipy::builder {
namespace {

Status GitError(std::string_view what) {
  const git_error* e = git_error_last();
  return Unavailable("git: " + std::string(what) + ": " +
                     (e != nullptr && e->message != nullptr ? e->message : "unknown error"));
}

// RAII for libgit2 objects.
template <typename T, void (*Free)(T*)>
struct Owned {
  T* p = nullptr;
  Owned() = default;
  Owned(const Owned&) = delete;
  Owned& operator=(const Owned&) = delete;
  ~Owned() {
    if (p != nullptr) {
      Free(p);
    }
  }
};
using Repo = Owned<git_repository, git_repository_free>;
using Remote = Owned<git_remote, git_remote_free>;
using Commit = Owned<git_commit, git_commit_free>;
using Tree = Owned<git_tree, git_tree_free>;
using TreeEntry = Owned<git_tree_entry, git_tree_entry_free>;
using Blob = Owned<git_blob, git_blob_free>;
using Diff = Owned<git_diff, git_diff_free>;
using Object = Owned<git_object, git_object_free>;

// Pack files libgit2 may keep open at once (process-wide).
constexpr int kMaxOpenPacks = 32;

void InitLibgit2() {
  static std::once_flag once;
  std::call_once(once, [] {
    git_libgit2_init();
    // The mirror may be owned by another user than the server (RECIPES.md).
    git_libgit2_opts(GIT_OPT_SET_OWNER_VALIDATION, 0);
    // Every fetch adds a pack to the mirror and libgit2 keeps each pack it read open: with
    // no cap a server that sees a push a minute runs out of descriptors in weeks.
    git_libgit2_opts(GIT_OPT_SET_MWINDOW_FILE_LIMIT, kMaxOpenPacks);
  });
}

std::string OidHex(const git_oid& oid) {
  char buf[GIT_OID_HEXSZ + 1];
  git_oid_tostr(buf, sizeof(buf), &oid);
  return buf;
}

std::string_view TopFolder(const char* path) {
  if (path == nullptr) {
    return {};
  }
  std::string_view p(path);
  std::size_t slash = p.find('/');
  return slash == std::string_view::npos ? std::string_view() : p.substr(0, slash);
}

struct WalkState {
  git_repository* repo;
  std::filesystem::path dest;
  Status status;
};

int WriteEntry(const char* root, const git_tree_entry* entry, void* payload) {
  auto* state = static_cast<WalkState*>(payload);
  std::filesystem::path rel = std::filesystem::path(root) / git_tree_entry_name(entry);
  std::filesystem::path out = state->dest / rel;
  git_filemode_t mode = git_tree_entry_filemode(entry);
  std::error_code ec;
  if (mode == GIT_FILEMODE_TREE) {
    std::filesystem::create_directories(out, ec);
    return 0;
  }
  if (mode == GIT_FILEMODE_COMMIT) {
    return 0;  // a submodule: not part of this repository's contents
  }
  Blob blob;
  if (git_blob_lookup(&blob.p, state->repo, git_tree_entry_id(entry)) != 0) {
    state->status = GitError("reading " + rel.string());
    return -1;
  }
  std::string_view data(static_cast<const char*>(git_blob_rawcontent(blob.p)),
                        static_cast<std::size_t>(git_blob_rawsize(blob.p)));
  std::filesystem::create_directories(out.parent_path(), ec);
  if (mode == GIT_FILEMODE_LINK) {
    std::filesystem::create_symlink(std::string(data), out, ec);
    return 0;
  }
  std::ofstream file(out, std::ios::binary | std::ios::trunc);
  file.write(data.data(), static_cast<std::streamsize>(data.size()));
  file.close();
  if (!file) {
    state->status = Internal("cannot write " + out.string());
    return -1;
  }
  if (mode == GIT_FILEMODE_BLOB_EXECUTABLE) {
    ::chmod(out.c_str(), 0755);
  }
  return 0;
}

// The only calls that read a remote's configuration. Debian 12's libgit2 1.5 leaks a PCRE2
// match block each time it does (tests/sanitizers/lsan.supp names these two functions), so
// each source makes its one remote object once, at Open, and fetches through it: one block
// per source for the process's life instead of one per poll.
[[gnu::noinline]] int LookUpOriginRemote(git_remote** out, git_repository* repo) {
  return git_remote_lookup(out, repo, "origin");
}

[[gnu::noinline]] int CreateOriginRemote(git_remote** out, git_repository* repo,
                                         const std::string& url) {
  return git_remote_create_with_fetchspec(out, repo, "origin", url.c_str(),
                                          "+refs/heads/*:refs/remotes/origin/*");
}

class Libgit2Source final : public GitSource {
 public:
  Libgit2Source(std::string url, std::filesystem::path dir)
      : url_(std::move(url)), dir_(std::move(dir)) {}

  Status Open() {
    std::lock_guard lock(mu_);
    if (git_repository_open_bare(&repo_.p, dir_.c_str()) == 0) {
      if (LookUpOriginRemote(&remote_.p, repo_.p) != 0) {
        return GitError("remote origin of the mirror " + dir_.string());
      }
      return Status::Ok();
    }
    std::error_code ec;
    std::filesystem::create_directories(dir_, ec);
    if (git_repository_init(&repo_.p, dir_.c_str(), /*is_bare=*/1) != 0) {
      return GitError("creating the mirror " + dir_.string());
    }
    if (CreateOriginRemote(&remote_.p, repo_.p, url_) != 0) {
      return GitError("adding remote " + url_);
    }
    return Status::Ok();
  }

  Status Fetch() override {
    std::lock_guard lock(mu_);
    git_fetch_options options = GIT_FETCH_OPTIONS_INIT;
    options.prune = GIT_FETCH_PRUNE;
    if (git_remote_fetch(remote_.p, nullptr, &options, "pipy fetch") != 0) {
      return GitError("fetching " + url_);
    }
    return Status::Ok();
  }

  Result<std::string> BranchHead(std::string_view branch) override {
    std::lock_guard lock(mu_);
    git_oid oid;
    std::string ref = "refs/remotes/origin/" + std::string(branch);
    if (git_reference_name_to_id(&oid, repo_.p, ref.c_str()) != 0) {
      return NotFound("git: no branch \"" + std::string(branch) + "\" in " + url_);
    }
    return OidHex(oid);
  }

  Result<std::string> ResolveCommit(std::string_view rev) override {
    std::lock_guard lock(mu_);
    Object object;
    std::string spec = std::string(rev) + "^{commit}";
    if (rev.empty() || git_revparse_single(&object.p, repo_.p, spec.c_str()) != 0) {
      return NotFound("git: no commit \"" + std::string(rev) + "\" in " + url_);
    }
    return OidHex(*git_object_id(object.p));
  }

  Result<std::vector<std::string>> ListModules(std::string_view commit) override {
    std::lock_guard lock(mu_);
    Tree tree;
    PIPY_RETURN_IF_ERROR(LookupTree(commit, tree));
    std::vector<std::string> modules;
    std::size_t n = git_tree_entrycount(tree.p);
    for (std::size_t i = 0; i < n; ++i) {
      const git_tree_entry* entry = git_tree_entry_byindex(tree.p, i);
      if (git_tree_entry_type(entry) != GIT_OBJECT_TREE) {
        continue;
      }
      std::string name = git_tree_entry_name(entry);
      for (const char* marker : {"/pyproject.toml", "/package.json"}) {
        TreeEntry file;
        std::string path = name + marker;
        if (git_tree_entry_bypath(&file.p, tree.p, path.c_str()) == 0 &&
            git_tree_entry_type(file.p) == GIT_OBJECT_BLOB) {
          modules.push_back(std::move(name));
          break;
        }
      }
    }
    return modules;  // tree entries are sorted by name
  }

  Result<std::set<std::string>> ChangedFolders(std::string_view from,
                                               std::string_view to) override {
    std::lock_guard lock(mu_);
    Tree old_tree;
    Tree new_tree;
    PIPY_RETURN_IF_ERROR(LookupTree(from, old_tree));
    PIPY_RETURN_IF_ERROR(LookupTree(to, new_tree));
    Diff diff;
    git_diff_options options = GIT_DIFF_OPTIONS_INIT;
    if (git_diff_tree_to_tree(&diff.p, repo_.p, old_tree.p, new_tree.p, &options) != 0) {
      return GitError("diffing " + std::string(from) + ".." + std::string(to));
    }
    // Without rename detection a rename is a deletion plus an addition: both folders appear.
    std::set<std::string> folders;
    std::size_t n = git_diff_num_deltas(diff.p);
    for (std::size_t i = 0; i < n; ++i) {
      const git_diff_delta* delta = git_diff_get_delta(diff.p, i);
      for (const char* path : {delta->old_file.path, delta->new_file.path}) {
        std::string_view folder = TopFolder(path);
        if (!folder.empty()) {
          folders.emplace(folder);
        }
      }
    }
    return folders;
  }

  Result<std::optional<std::string>> ReadFile(std::string_view commit,
                                              std::string_view path) override {
    std::lock_guard lock(mu_);
    Tree tree;
    PIPY_RETURN_IF_ERROR(LookupTree(commit, tree));
    TreeEntry entry;
    std::string p(path);
    if (git_tree_entry_bypath(&entry.p, tree.p, p.c_str()) != 0 ||
        git_tree_entry_type(entry.p) != GIT_OBJECT_BLOB) {
      return std::optional<std::string>();
    }
    Blob blob;
    if (git_blob_lookup(&blob.p, repo_.p, git_tree_entry_id(entry.p)) != 0) {
      return GitError("reading " + p);
    }
    return std::optional<std::string>(
        std::string(static_cast<const char*>(git_blob_rawcontent(blob.p)),
                    static_cast<std::size_t>(git_blob_rawsize(blob.p))));
  }

  Status CheckoutFolder(std::string_view commit, std::string_view folder,
                        const std::filesystem::path& dest) override {
    std::lock_guard lock(mu_);
    Tree tree;
    PIPY_RETURN_IF_ERROR(LookupTree(commit, tree));
    TreeEntry entry;
    std::string f(folder);
    if (f.empty() || git_tree_entry_bypath(&entry.p, tree.p, f.c_str()) != 0 ||
        git_tree_entry_type(entry.p) != GIT_OBJECT_TREE) {
      return NotFound("the folder \"" + f + "\" does not exist at commit " +
                      std::string(commit));
    }
    Tree sub;
    if (git_tree_lookup(&sub.p, repo_.p, git_tree_entry_id(entry.p)) != 0) {
      return GitError("reading folder " + f);
    }
    std::error_code ec;
    std::filesystem::create_directories(dest, ec);
    WalkState state{repo_.p, dest, Status::Ok()};
    if (git_tree_walk(sub.p, GIT_TREEWALK_PRE, &WriteEntry, &state) != 0) {
      return state.status.ok() ? GitError("checking out " + f) : state.status;
    }
    return Status::Ok();
  }

 private:
  // The tree of `commit`; the caller holds mu_.
  Status LookupTree(std::string_view commit, Tree& tree) {
    git_oid oid;
    std::string hex(commit);
    Commit c;
    if (git_oid_fromstr(&oid, hex.c_str()) != 0 || git_commit_lookup(&c.p, repo_.p, &oid) != 0) {
      return NotFound("git: no commit " + hex + " in " + url_);
    }
    if (git_commit_tree(&tree.p, c.p) != 0) {
      return GitError("reading the tree of " + hex);
    }
    return Status::Ok();
  }

  const std::string url_;
  const std::filesystem::path dir_;
  std::mutex mu_;
  Repo repo_;  // guarded by mu_
  Remote remote_;  // guarded by mu_; made once by Open (see LookUpOriginRemote); freed first
};

}  // namespace

Result<std::unique_ptr<GitSource>> OpenLibgit2Source(std::string url,
                                                     std::filesystem::path mirror_dir) {
  InitLibgit2();
  auto source = std::make_unique<Libgit2Source>(std::move(url), std::move(mirror_dir));
  PIPY_RETURN_IF_ERROR(source->Open());
  return std::unique_ptr<GitSource>(std::move(source));
}

}  // namespace pipy::builder
