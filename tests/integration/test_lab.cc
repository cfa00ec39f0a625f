#include "tests/integration/test_lab.h"

#include <sstream>

#include <unistd.h>

#include <chrono>
#include <thread>

#include <catch2/catch.hpp>

namespace fwcanary::testing {

TestLab::TestLab(int nodes, const std::string& lab_net, const std::string& extra_up_args)
    : net(lab_net) {
  REQUIRE(::geteuid() == 0);  // the lab needs root: FUSE allow_other, sshd on port 22
  dir = "/var/tmp/fwcanary-test-lab-" + net + "-" + std::to_string(::getpid());
  std::vector<std::string> args = {"up", std::to_string(nodes), "--net", net};
  std::istringstream extra(extra_up_args);  // words: "--capacity 4194304"
  for (std::string w; extra >> w;) args.push_back(w);
  CommandResult r = Labctl(args);
  INFO("labctl up: " << r.out << r.err);
  REQUIRE(r.exit_code == 0);
  up = true;
}

TestLab::~TestLab() {
  if (!dir.empty()) Labctl({"down"});
}

CommandResult TestLab::Labctl(const std::vector<std::string>& args, double timeout_s) const {
  std::vector<std::string> argv = {FWCANARY_LABCTL};
  argv.insert(argv.end(), args.begin(), args.end());
  CommandOptions o;
  o.timeout_s = timeout_s;
  o.env = {{"FWCANARY_LAB", dir}, {"FWCANARY_BIN", FWCANARY_BIN_DIR}};
  return RunCommand(argv, o);
}

CommandResult TestLab::Ssh(int node, const std::string& command, const std::string& stdin_text,
                           double timeout_s) const {
  CommandOptions o;
  o.stdin_text = stdin_text;
  o.timeout_s = timeout_s;
  return RunCommand({"ssh", "-F", dir + "/ssh_config", "node-" + std::to_string(node), command},
                    o);
}

std::string TestLab::Ask(int node, const std::string& command) const {
  CommandResult r = Ssh(node, command);
  if (r.exit_code != 0) return "";
  std::string out = r.out;
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

bool TestLab::WaitForNewBoot(int node, const std::string& old_boot_id, double timeout_s) const {
  auto deadline = std::chrono::steady_clock::now() +
                  std::chrono::milliseconds(static_cast<int>(timeout_s * 1000));
  while (std::chrono::steady_clock::now() < deadline) {
    std::string id = Ask(node, "fwsim-node boot-id");
    if (!id.empty() && id != old_boot_id) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return false;
}

CommandResult TestLab::RunAgent(int node, const std::string& sub, const std::string& spec,
                                const std::string& extra_args, double timeout_s) const {
  std::string cmd = "fwcanary-agent --spec - --workdir " + NodeDir(node) + "/mnt/" + sub +
                    " --node node-" + std::to_string(node) + " " + extra_args;
  return Ssh(node, cmd, spec, timeout_s);
}

}  // namespace fwcanary::testing
