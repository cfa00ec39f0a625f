// fwcanary exec: one command on every node of a scenario's inventory over SSH, as parallel-ssh
// does, with the scenario's host-key checking and ssh.concurrency: a quick fleet check before a
// maintenance window, and what bench/fanout times against parallel-ssh. The command is a
// template like the scenario's ({node.name}, {node.<var>}: values arrive shell-quoted).
// Each node's output is printed as it finishes, its lines prefixed by its name; a summary
// goes to stderr. Exit 0 when every node ran the command with exit 0, 2 otherwise.
#include <chrono>
#include <cstdio>
#include <iostream>
#include <mutex>

#include "common/exit_status.h"
#include "harness/cli/commands.h"
#include "harness/rollout/fan_out.h"
#include "harness/rollout/node_session.h"
#include "harness/rollout/plan.h"
#include "harness/scenario/command_template.h"

namespace fwcanary::cli {
namespace {

struct ExecArgs {
  std::string scenario;
  scenario::LoadOverrides o;
  std::string on = "all";
  double timeout_s = 0;
  std::vector<std::string> command;
};

int RunExec(const ExecArgs& a) {
  auto sc = scenario::LoadScenario(a.scenario, a.o);
  if (!sc.ok()) {
    std::fprintf(stderr, "fwcanary exec: %s\n", sc.status().message().c_str());
    return kExitError;
  }
  std::string line;
  for (const auto& w : a.command) line += (line.empty() ? "" : " ") + w;
  std::vector<const scenario::Node*> nodes;
  for (const auto& n : sc->inventory.nodes) {
    if (a.on == "all" || (a.on == "targets" && n.target) || (a.on == "clients" && n.client)) nodes.push_back(&n);
  }
  const double timeout = a.timeout_s > 0 ? a.timeout_s : sc->ssh.command_timeout_s;
  std::mutex mu;
  int ok = 0, failed = 0, unreachable = 0;
  const auto start = std::chrono::steady_clock::now();
  rollout::FanOut<const scenario::Node*>(nodes, sc->ssh.concurrency, [&](const scenario::Node* n) {
    rollout::NodeSession s(sc.value(), *n);
    auto cmd = scenario::Expand(line, rollout::NodeValues(sc.value(), *n));
    std::string report;
    bool good = false, reached = true;
    if (!cmd.ok()) {
      report = n->name + ": " + cmd.status().message() + "\n";
    } else if (auto r = s.Run(cmd.value(), timeout); !r.ok()) {
      reached = false;
      report = r.status().message() + "\n";  // names the node
    } else {
      good = r->exit_code == 0;
      std::string status = r->timed_out ? "timed out after " + std::to_string(static_cast<int>(timeout)) + " s"
                           : !r->signal.empty() ? "killed by SIG" + r->signal
                                                : "exit " + std::to_string(r->exit_code);
      report = n->name + ": " + status + "\n";
      std::size_t b = 0;
      for (std::size_t e; (e = r->out.find('\n', b)) != std::string::npos; b = e + 1) {
        report += n->name + ": " + r->out.substr(b, e - b) + "\n";
      }
      if (b < r->out.size()) report += n->name + ": " + r->out.substr(b) + "\n";
      if (!good && !r->err.empty()) report += n->name + " stderr: " + r->err + (r->err.back() == '\n' ? "" : "\n");
    }
    std::lock_guard lock(mu);
    (good ? ok : reached ? failed : unreachable) += 1;
    std::cout << report << std::flush;
  });
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::fprintf(stderr, "fwcanary exec: %zu node(s): %d exit 0, %d failed, %d unreachable in %.1f s\n",
               nodes.size(), ok, failed, unreachable, secs);
  return ok == static_cast<int>(nodes.size()) ? kExitPass : kExitError;
}

}  // namespace

std::function<int()> SetupExec(CLI::App& app) {
  auto a = std::make_shared<ExecArgs>();
  app.add_option("scenario", a->scenario, "scenario YAML file (its inventory and ssh settings)")->required();
  app.add_option("command", a->command, "the command (after --), a template: {node.name}, {node.<var>}")
      ->required()
      ->expected(-1);
  app.add_option("--on", a->on, "all | targets | clients")->check(CLI::IsMember({"all", "targets", "clients"}));
  app.add_option("--timeout", a->timeout_s, "seconds per node (default ssh.command_timeout_s)");
  app.add_option("--inventory", a->o.inventory, "Ansible inventory instead of the scenario's");
  return [a] { return RunExec(*a); };
}

}  // namespace fwcanary::cli
