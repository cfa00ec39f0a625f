// fwcanary schema: the scenario format as a JSON Schema, from the same field tables that parse
// it (scenarios/scenario.schema.json is its output; a test keeps the two equal). With
// yaml-language-server, `# yaml-language-server: $schema=scenario.schema.json` at the top of a
// scenario gives completion and checking in an editor.
#include <cstdio>

#include "common/exit_status.h"
#include "harness/cli/commands.h"
#include "harness/scenario/scenario.h"

namespace fwcanary::cli {

std::function<int()> SetupSchema(CLI::App& app) {
  app.footer(
      "The agent's workload spec: fwcanary-agent --schema; a lab firmware image: fwsim --schema.");
  return [] {
    std::printf("%s\n", scenario::ScenarioSchema().dump(2).c_str());
    return static_cast<int>(kExitPass);
  };
}

}  // namespace fwcanary::cli
