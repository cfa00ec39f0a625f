#pragma once
// fwcanary's subcommands as a table (like ninja's kTools[]): name, one-line help, how to set up
// its options, and what runs it. Each subcommand lives in its own cmd_*.cc.
//
// Thread safety: the table is immutable.

#include <functional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace fwcanary::judge {
struct JudgeConfig;
}

namespace fwcanary::cli {

struct Command {
  const char* name;
  const char* help;
  // Adds the subcommand's options to `app` and returns what runs it (an exit code).
  std::function<std::function<int()>(CLI::App& app)> setup;
};

const std::vector<Command>& Commands();

// The subcommands, each in its own file.
std::function<int()> SetupCompare(CLI::App& app);
std::function<int()> SetupCalibrate(CLI::App& app);
std::function<int()> SetupPlan(CLI::App& app);
std::function<int()> SetupRun(CLI::App& app);
std::function<int()> SetupResume(CLI::App& app);
std::function<int()> SetupReport(CLI::App& app);
std::function<int()> SetupHistory(CLI::App& app);
std::function<int()> SetupExec(CLI::App& app);
std::function<int()> SetupSchema(CLI::App& app);

// SIGINT/SIGTERM ask a running rollout to stop at its next safe point (rollout::RequestStop);
// a second signal ends the process at once (the journal is still consistent: it is written
// before every action).
void InstallStopHandlers();

// The agent binary shipped next to this fwcanary binary (build/bin/), deployed to nodes; empty
// when there is none.
std::string SiblingAgent();

// `--tolerance METRIC=VALUE` options (compare, calibrate) into cfg->tolerances. A bad one is
// printed as "fwcanary COMMAND: ..." and makes it return false.
bool ParseTolerances(const char* command, const std::vector<std::string>& specs,
                     judge::JudgeConfig* cfg);

// fwcanary's main: parses argv, runs the chosen subcommand. Returns the exit code.
int Main(int argc, char** argv);

}  // namespace fwcanary::cli
