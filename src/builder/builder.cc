#include "builder/builder.h"

#include <unistd.h>

#include <algorithm>
#include <set>

#include "builder/commit_modules.h"
#include "core/semver.h"
#include "npm/npm_format.h"
#include "python/python_format.h"

namespace pipy::builder {

std::string DefaultNodeId(const std::filesystem::path& data_dir) {
  char host[256] = {};
  gethostname(host, sizeof(host) - 1);
  std::error_code ec;
  std::filesystem::path absolute = std::filesystem::absolute(data_dir, ec);
  return std::string(host) + ":" + (ec ? data_dir : absolute).lexically_normal().string();
}

Result<bool> IsPublished(index::Index& index, std::string_view format, std::string_view project,
                         std::string_view version) {
  if (format == kNpmFormat) {
    auto view = index.GetProject(npm::NpmFormat(), project);
    if (!view) {
      return view.error().code() == StatusCode::kNotFound ? Result<bool>(false) : view.error();
    }
    auto wanted = semver::Version::Parse(version);
    for (const catalog::FileRecord& f : (*view)->files) {
      if (f.version == version || (wanted && f.version == wanted->Key())) {
        return true;
      }
    }
    return false;
  }
  auto view = index.GetProject(python::PythonFormat(), project);
  if (!view) {
    if (view.error().code() == StatusCode::kNotFound) {
      return false;
    }
    return view.error();
  }
  // PEP 440 equality: "1.0.0" in pyproject.toml is the release published as "1.0".
  auto wanted = python::PythonFormat().ParseVersion(version);
  for (const catalog::FileRecord& f : (*view)->files) {
    if (f.version == version || (wanted && f.version_key == wanted->key)) {
      return true;
    }
  }
  return false;
}

Result<std::unique_ptr<Builder>> Builder::Create(
    const std::vector<config::SourceConfig>& sources, const config::BuilderConfig& config,
    const Paths& paths, catalog::BuildQueue& queue, index::Index& index,
    auth::Authenticator& authenticator, std::string node_id,
    BuildRunner::FinishedCallback on_finished) {
  // bwrap needs absolute paths, and the sandbox hides exactly these.
  std::error_code ec;
  const std::filesystem::path data_dir =
      std::filesystem::absolute(paths.data_dir, ec).lexically_normal();
  if (ec) {
    return InvalidArgument("data folder " + paths.data_dir.string() + ": " + ec.message());
  }
  std::unique_ptr<Builder> builder(new Builder(queue, index));
  builder->node_id_ = std::move(node_id);
  std::map<std::string, SourceEntry> entries;
  for (const config::SourceConfig& source : sources) {
    if (source.name.empty() || source.name.find('/') != std::string::npos ||
        source.name.starts_with(".")) {
      return InvalidArgument("source name \"" + source.name + "\" cannot be used in a path");
    }
    if (entries.contains(source.name)) {
      return InvalidArgument("two [[sources]] are named \"" + source.name + "\"");
    }
    auto git = OpenLibgit2Source(source.repo, data_dir / "git" / source.name);
    if (!git) {
      return git.error().WithContext("source " + source.name);
    }
    entries[source.name] = SourceEntry{source, git->get()};
    builder->gits_.push_back(std::move(*git));
  }
  RunnerOptions options;
  options.work_dir = data_dir / "builds";
  options.authenticator = &authenticator;
  options.hidden_dirs = {data_dir};
  if (!paths.config_file.empty()) {
    options.hidden_files = {std::filesystem::absolute(paths.config_file, ec).lexically_normal()};
  }
  options.timeout = config.timeout;
  options.memory_limit = config.memory_limit;
  options.max_log_bytes = config.max_log_bytes;
  // A finished job may free the jobs waiting for it: wake the idle runners at once.
  Builder* self = builder.get();
  auto finished = [self, on_finished = std::move(on_finished)](std::string_view format,
                                                                catalog::BuildStatus status) {
    if (on_finished) {
      on_finished(format, status);
    }
    self->pool_->Notify();
  };
  builder->runner_ = std::make_unique<BuildRunner>(options, queue, index, builder->processes_,
                                                   builder->clock_, entries, finished);
  builder->pool_ =
      std::make_unique<RunnerPool>(*builder->runner_, builder->node_id_, config.concurrency);
  for (auto& [name, entry] : entries) {
    RunnerPool* pool = builder->pool_.get();
    builder->watchers_[name] = std::make_unique<Watcher>(
        entry.config, *entry.git, queue, builder->clock_,
        [&index](std::string_view format, std::string_view project, std::string_view version) {
          return IsPublished(index, format, project, version);
        },
        builder->node_id_, [pool] { pool->Notify(); });
  }
  return builder;
}

Builder::~Builder() { Stop(); }

Status Builder::Start(std::string server_url, std::string index_refusal) {
  if (started_) {
    return Status::Ok();
  }
  runner_->set_server(server_url, std::move(index_refusal));
  PIPY_ASSIGN_OR_RETURN(int requeued, queue_.RequeueRunning(node_id_ + "/"));
  (void)requeued;
  pool_->Start();
  for (auto& [name, watcher] : watchers_) {
    watcher->Start();
  }
  started_ = true;
  return Status::Ok();
}

void Builder::Stop() {
  if (!started_) {
    return;
  }
  for (auto& [name, watcher] : watchers_) {
    watcher->Stop();
  }
  pool_->Stop();
  started_ = false;
}

Watcher* Builder::FindWatcher(std::string_view name) {
  auto it = watchers_.find(name);
  return it == watchers_.end() ? nullptr : it->second.get();
}

Result<catalog::BuildJob> Builder::Rebuild(std::string_view source, std::string_view module,
                                           std::string_view rev, std::string_view format) {
  if (!format.empty() && format != kPythonFormat && format != kNpmFormat) {
    return InvalidArgument("unknown format \"" + std::string(format) +
                           "\" (it is \"python\" or \"npm\")");
  }
  Watcher* watcher = FindWatcher(source);
  if (watcher == nullptr) {
    return NotFound("no source named \"" + std::string(source) + "\"");
  }
  GitSource& git = watcher->git();
  std::string commit;
  if (rev.empty()) {
    PIPY_RETURN_IF_ERROR(git.Fetch());
    PIPY_ASSIGN_OR_RETURN(commit, git.BranchHead(watcher->source().branch));
  } else {
    Result<std::string> resolved = git.ResolveCommit(rev);
    if (!resolved) {
      PIPY_RETURN_IF_ERROR(git.Fetch());  // maybe pushed since the last round
      PIPY_ASSIGN_OR_RETURN(commit, git.ResolveCommit(rev));
    } else {
      commit = *resolved;
    }
  }
  PIPY_ASSIGN_OR_RETURN(std::vector<CommitModule> modules,
                        ReadCommitModules(git, commit, {std::string(module)}));
  std::erase_if(modules, [&](const CommitModule& m) {
    return !format.empty() && m.format != format;
  });
  if (modules.empty()) {
    return NotFound("no " + (format.empty() ? std::string() : std::string(format) + " ") +
                    "module \"" + std::string(module) + "\" at commit " + commit);
  }
  if (modules.size() > 1) {
    return InvalidArgument("folder \"" + std::string(module) +
                           "\" holds a Python and an npm module: say which with \"format\"");
  }
  catalog::NewBuild build;
  build.source = std::string(source);
  build.module = std::string(module);
  build.format = modules.front().format;
  build.commit = commit;
  build.created_ms = clock_.NowMs();
  build.project = modules.front().node.package;
  build.version = modules.front().version;
  PIPY_ASSIGN_OR_RETURN(catalog::BuildJob job, queue_.Enqueue(build));
  pool_->Notify();
  return job;
}

}  // namespace pipy::builder
