#include "harness/cli/commands.h"

#include <csignal>
#include <cmath>
#include <cstdio>

#include "common/exit_status.h"
#include "common/untrusted_text.h"
#include "fwcanary/version.h"
#include "harness/judge/judge.h"
#include "harness/judge/metrics.h"

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
      {"schema", "print the scenario format as a JSON Schema (for editors and validators)", SetupSchema},
  };
  return t;
}

bool ParseTolerances(const char* command, const std::vector<std::string>& specs,
                     judge::JudgeConfig* cfg) {
  for (const auto& t : specs) {
    auto eq = t.find('=');
    std::string name = t.substr(0, eq);
    if (eq == std::string::npos || judge::FindMetric(name) == nullptr) {
      std::fprintf(stderr, "fwcanary %s: --tolerance wants METRIC=VALUE with a known metric "
                           "(throughput, p99, ...), got '%s'\n", command, t.c_str());
      return false;
    }
    double value = 0;
    std::size_t used = 0;
    try {
      value = std::stod(t.substr(eq + 1), &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != t.size() - eq - 1 || !std::isfinite(value) || value < 0) {
      std::fprintf(stderr, "fwcanary %s: --tolerance %s: not a number >= 0 (a fraction: "
                           "0.10 is 10%%)\n", command, t.c_str());
      return false;
    }
    cfg->tolerances[name] = value;
  }
  return true;
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
  // A command whose stdin we still write to may exit first: that is an EPIPE to handle, never a
  // signal that kills the controller mid-wave.
  ::signal(SIGPIPE, SIG_IGN);
  if (!run) return kExitError;
  // The last line of defence: whatever escapes a command is an error with its text, not an
  // abort (the run loop has its own handler, which also rolls the wave back).
  try {
    return run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fwcanary: internal error: %s\n", SafeText(e.what()).c_str());
  } catch (...) {
    std::fprintf(stderr, "fwcanary: internal error\n");
  }
  return kExitError;
}

}  // namespace fwcanary::cli
