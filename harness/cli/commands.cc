#include "harness/cli/commands.h"

#include "common/exit_status.h"
#include "fwcanary/version.h"

namespace fwcanary::cli {

const std::vector<Command>& Commands() {
  static const std::vector<Command> t = {
      {"plan", "validate a scenario and print the resolved plan; touches nothing", SetupPlan},
      {"run", "roll the firmware out in waves, judge each, halt and roll back on a regression",
       SetupRun},
      {"resume", "continue a run the controller did not finish (killed, stopped, host crash)",
       SetupResume},
      {"report", "render a run's reports again: report.json, junit.xml, report.html, summary.md, metrics.prom",
       SetupReport},
      {"history", "runs across nights and the canary's trend per metric (history.db)", SetupHistory},
      {"exec", "run one command on every node of a scenario's inventory (like parallel-ssh)", SetupExec},
      {"compare", "judge candidate runs against baseline runs (agent records or fio JSON)",
       SetupCompare},
      {"calibrate", "A/A: noise per metric from repeated runs of the same firmware, and the "
                    "smallest regression they let a comparison see", SetupCalibrate},
  };
  return t;
}

int Main(int argc, char** argv) {
  CLI::App app{"fwcanary: firmware-upgrade canary for storage, judged on mail I/O"};
  app.set_version_flag("--version", FWCANARY_VERSION);
  app.require_subcommand(1);
  std::function<int()> run;
  for (const auto& c : Commands()) {
    CLI::App* sub = app.add_subcommand(c.name, c.help);
    auto runner = c.setup(*sub);
    sub->callback([&run, runner] { run = runner; });
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? kExitPass : kExitError;
  }
  return run ? run() : kExitError;
}

}  // namespace fwcanary::cli
