#include "builder/sandbox.h"

namespace pipy::builder {

std::vector<std::string> SandboxArgv(const SandboxSpec& spec,
                                     const std::vector<std::string>& command) {
  std::vector<std::string> argv = {spec.bwrap};
  if (!spec.network) {
    argv.push_back("--unshare-net");
  }
  // bwrap applies the mounts in order: the root first, then what hides parts of it, then
  // what is bound back.
  argv.insert(argv.end(),
              {"--unshare-pid", "--unshare-ipc", "--unshare-uts", "--die-with-parent", "--ro-bind",
               "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp"});
  for (const std::filesystem::path& file : spec.hidden_files) {
    std::error_code ec;
    if (!file.empty() && std::filesystem::exists(file, ec)) {
      argv.insert(argv.end(), {"--ro-bind", "/dev/null", file.string()});
    }
  }
  for (const std::filesystem::path& dir : spec.hidden_dirs) {
    if (!dir.empty()) {
      argv.insert(argv.end(), {"--tmpfs", dir.string()});
    }
  }
  for (const std::filesystem::path& dir : spec.read_only) {
    argv.insert(argv.end(), {"--ro-bind", dir.string(), dir.string()});
  }
  for (const std::filesystem::path& dir : spec.writable) {
    argv.insert(argv.end(), {"--bind", dir.string(), dir.string()});
  }
  argv.insert(argv.end(), {"--chdir", spec.chdir.empty() ? "/" : spec.chdir.string(), "--"});
  argv.insert(argv.end(), command.begin(), command.end());
  return argv;
}

}  // namespace pipy::builder
