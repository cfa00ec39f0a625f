#pragma once
// The agent's command line, as a library function so tests can drive it without a process.
//   fwcanary-agent --spec FILE|- [--workdir DIR] [--rate N] [--duration S] [--engine mail|fio]
//                  [--node NAME] [--seed N] [--cleanup] [--help-spec] [--version]
// Returns the process exit status (common/exit_status.h): 0 the run completed with every
// message accounted for, 1 a message was lost or corrupt, 2 an error (bad spec, refused work
// directory, engine failure).

namespace fwcanary {

int AgentMain(int argc, char** argv);

}  // namespace fwcanary
