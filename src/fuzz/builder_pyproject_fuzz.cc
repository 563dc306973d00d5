// The builder's pyproject.toml parser (builder/module.h) on any text: an accepted module
// has a valid project name and its PEP 503 normalized form, a version that is its own
// normalized PEP 440 spelling, and a non-empty test command; the config rendered back as a
// pyproject.toml (through toml++) parses to the same config.
#include <cstdint>
#include <sstream>
#include <string>
#include <string_view>

#include <toml++/toml.h>

#include "builder/module.h"
#include "core/pep440_version.h"
#include "core/pep503.h"
#include "fuzz/fuzz_check.h"
#include "fuzz/fuzz_input.h"

namespace {

using pipy::builder::ModuleConfig;
using pipy::fuzz::Check;

toml::array List(const std::vector<std::string>& items) {
  toml::array a;
  for (const std::string& item : items) {
    a.push_back(item);
  }
  return a;
}

std::string Render(const ModuleConfig& m) {
  toml::table project{{"name", m.name}, {"version", m.version},
                      {"dependencies", List(m.dependencies)}};
  project.insert("optional-dependencies", toml::table{{"test", List(m.test_dependencies)}});
  toml::table root{{"project", project},
                   {"tool", toml::table{{"pipy", toml::table{{"test", m.test_command}}}}}};
  if (!m.build_backend.empty()) {
    root.insert("build-system", toml::table{{"build-backend", m.build_backend}});
  }
  std::ostringstream out;
  out << root;
  return out.str();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto m = pipy::builder::ParseModuleConfig(pipy::fuzz::AsText(data, size));
  if (!m.has_value()) {
    return 0;
  }
  Check(pipy::pep503::IsValidName(m->name), "a module's name is valid");
  Check(m->normalized_name == pipy::pep503::NormalizeName(m->name), "the name is normalized");
  auto version = pipy::pep440::Version::Parse(m->version);
  Check(version.has_value() && version->ToString() == m->version,
        "the version is normalized PEP 440");
  Check(!m->test_command.empty(), "a module has a test command");
  auto again = pipy::builder::ParseModuleConfig(Render(*m));
  Check(again.has_value(), "a rendered pyproject.toml parses");
  Check(again->name == m->name && again->version == m->version &&
            again->dependencies == m->dependencies &&
            again->test_dependencies == m->test_dependencies &&
            again->build_backend == m->build_backend && again->test_command == m->test_command,
        "a rendered pyproject.toml parses to the same config");
  return 0;
}
