#pragma once
// TestLab: a real lab (lab/labctl up) for one test, in its own directory and on its own
// loopback /24 so tests can run in parallel; torn down (labctl down) when destroyed.

#include <string>

#include "tests/integration/command.h"

namespace fwcanary::testing {

class TestLab {
 public:
  // REQUIRES: root. `net` is "127.X.Y", unique per test.
  TestLab(int nodes, const std::string& net, const std::string& extra_up_args = "");
  ~TestLab();
  TestLab(const TestLab&) = delete;
  TestLab& operator=(const TestLab&) = delete;

  CommandResult Labctl(const std::vector<std::string>& args, double timeout_s = 120) const;
  // `ssh -F ssh_config node-N COMMAND` (strict host key checking, as labctl configures it).
  CommandResult Ssh(int node, const std::string& command, const std::string& stdin_text = "",
                    double timeout_s = 60) const;
  // Output of a node command with the trailing newline removed; "" if it failed.
  std::string Ask(int node, const std::string& command) const;
  // Waits until the node answers over SSH with a boot id other than `old_boot_id`.
  bool WaitForNewBoot(int node, const std::string& old_boot_id, double timeout_s = 30) const;
  // Runs the agent on the node's fwsim work dir (subdirectory `sub`) over SSH.
  CommandResult RunAgent(int node, const std::string& sub, const std::string& spec,
                         const std::string& extra_args = "", double timeout_s = 120) const;

  std::string NodeDir(int node) const { return dir + "/nodes/node-" + std::to_string(node); }
  std::string dir;
  std::string net;
  bool up = false;
};

}  // namespace fwcanary::testing
