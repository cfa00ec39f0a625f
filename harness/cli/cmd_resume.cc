// fwcanary resume RUN_DIR: continue a rollout from its journal (harness/rollout/rollout.h).
#include <unistd.h>

#include "harness/cli/commands.h"
#include "harness/rollout/rollout.h"

namespace fwcanary::cli {

std::function<int()> SetupResume(CLI::App& app) {
  auto dir = std::make_shared<std::string>();
  auto agent = std::make_shared<std::string>();
  app.add_option("run_dir", *dir, "the run directory (runs/<time>-<name>/, holds journal.db)")
      ->required();
  app.add_option("--agent", *agent, "agent binary to deploy (default: the run's, or next to fwcanary)");
  app.footer(
      "Finished steps are not repeated, a window cut short runs again, and a node is never "
      "flashed twice.\nExit codes: 0 pass, 1 regression (rolled back), 2 error, 3 inconclusive.");
  return [dir, agent] {
    rollout::RunOptions o;
    o.agent_binary = *agent;
    o.tty = ::isatty(STDERR_FILENO) == 1;
    InstallStopHandlers();
    return rollout::ResumeRun(*dir, o);
  };
}

}  // namespace fwcanary::cli
