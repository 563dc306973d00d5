#include "builder/module.h"

#include <toml++/toml.h>

#include "core/pep503.h"
#include "core/pep440_version.h"

namespace pipy::builder {
namespace {

Result<std::vector<std::string>> StringList(const toml::node* node, std::string_view what) {
  std::vector<std::string> out;
  if (node == nullptr) {
    return out;
  }
  const toml::array* array = node->as_array();
  if (array == nullptr) {
    return InvalidArgument("pyproject.toml: " + std::string(what) + " must be a list of strings");
  }
  for (const toml::node& item : *array) {
    std::optional<std::string> s = item.value<std::string>();
    if (!s) {
      return InvalidArgument("pyproject.toml: " + std::string(what) +
                             " must be a list of strings");
    }
    out.push_back(std::move(*s));
  }
  return out;
}

}  // namespace

Result<ModuleConfig> ParseModuleConfig(std::string_view pyproject) {
  toml::table root;
  try {
    root = toml::parse(pyproject);
  } catch (const toml::parse_error& e) {
    return InvalidArgument("pyproject.toml is not valid TOML: line " +
                           std::to_string(e.source().begin.line) + ": " +
                           std::string(e.description()));
  }
  ModuleConfig module;
  const toml::table* project = root["project"].as_table();
  if (project == nullptr) {
    return InvalidArgument("pyproject.toml has no [project] table (PEP 621)");
  }
  std::optional<std::string> name = (*project)["name"].value<std::string>();
  if (!name || !pep503::IsValidName(*name)) {
    return InvalidArgument("pyproject.toml: [project] name is missing or not a valid project "
                           "name");
  }
  module.name = *name;
  module.normalized_name = pep503::NormalizeName(*name);
  const toml::node* version_node = project->get("version");
  if (version_node == nullptr) {
    return InvalidArgument("pyproject.toml: [project] version is missing (Pipy needs a static "
                           "version to know what it publishes)");
  }
  std::optional<std::string> version = version_node->value<std::string>();
  if (!version) {
    return InvalidArgument("pyproject.toml: [project] version must be a string");
  }
  Result<pep440::Version> parsed_version = pep440::Version::Parse(*version);
  if (!parsed_version) {
    return InvalidArgument("pyproject.toml: [project] version \"" + *version +
                           "\" is not a valid PEP 440 version");
  }
  module.version = parsed_version->ToString();
  PIPY_ASSIGN_OR_RETURN(module.dependencies,
                        StringList(project->get("dependencies"), "[project] dependencies"));
  if (const toml::table* extras = (*project)["optional-dependencies"].as_table()) {
    PIPY_ASSIGN_OR_RETURN(module.test_dependencies,
                          StringList(extras->get("test"), "[project.optional-dependencies] test"));
  }
  module.build_backend = root["build-system"]["build-backend"].value_or(std::string());
  const toml::node* test = root.at_path("tool.pipy.test").node();
  if (test == nullptr) {
    module.test_command = kDefaultTestCommand;
  } else {
    std::optional<std::string> command = test->value<std::string>();
    if (!command || command->empty()) {
      return InvalidArgument("pyproject.toml: [tool.pipy] test must be a non-empty string (a "
                             "shell command)");
    }
    module.test_command = std::move(*command);
  }
  return module;
}

bool NeedsSkipDependencyCheck(const ModuleConfig& module) {
  return module.build_backend.starts_with("hatchling");
}

}  // namespace pipy::builder
