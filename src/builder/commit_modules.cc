#include "builder/commit_modules.h"

#include "builder/module.h"
#include "builder/npm_module.h"

namespace pipy::builder {

Result<std::vector<CommitModule>> ReadCommitModules(GitSource& git, std::string_view commit,
                                                    const std::vector<std::string>& folders) {
  std::vector<CommitModule> out;
  for (const std::string& folder : folders) {
    PIPY_ASSIGN_OR_RETURN(std::optional<std::string> pyproject,
                          git.ReadFile(commit, folder + "/pyproject.toml"));
    if (pyproject) {
      CommitModule module{folder, std::string(kPythonFormat), "", {}};
      if (Result<ModuleConfig> config = ParseModuleConfig(*pyproject)) {
        module.version = config->version;
        module.node = PythonNode(folder, *config);
      } else {
        module.node.id = ModuleId(folder, kPythonFormat);
        module.node.format = kPythonFormat;
      }
      out.push_back(std::move(module));
    }
    PIPY_ASSIGN_OR_RETURN(std::optional<std::string> package_json,
                          git.ReadFile(commit, folder + "/package.json"));
    if (package_json) {
      CommitModule module{folder, std::string(kNpmFormat), "", {}};
      Result<NpmModuleConfig> config = ParseNpmModule(*package_json);
      if (config && config->is_private) {
        continue;
      }
      if (config) {
        module.version = config->version;
        module.node = NpmNode(folder, *config);
      } else {
        module.node.id = ModuleId(folder, kNpmFormat);
        module.node.format = kNpmFormat;
      }
      out.push_back(std::move(module));
    }
  }
  return out;
}

}  // namespace pipy::builder
