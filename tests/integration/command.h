#pragma once
// RunCommand: runs a real program (the agent, labctl, ssh) as a child process for integration
// tests and collects its exit status, stdout and stderr, killing it after a timeout.

#include <map>
#include <string>
#include <vector>

namespace fwcanary::testing {

struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
  bool timed_out = false;
};

struct CommandOptions {
  std::string stdin_text;
  double timeout_s = 120;
  std::map<std::string, std::string> env;  // added to (or replacing in) the test's environment
  void (*after_start)(int pid) = nullptr;  // called with the child's pid once it runs
};

// argv[0] is a path or a name looked up in PATH.
CommandResult RunCommand(const std::vector<std::string>& argv, const CommandOptions& opts = {});

}  // namespace fwcanary::testing
