#include "harness/rollout/agent_window.h"

#include <algorithm>
#include <chrono>
#include <exception>
#include <fstream>
#include <mutex>
#include <thread>

#include "common/untrusted_text.h"
#include "harness/rollout/node_session.h"
#include "harness/scenario/command_template.h"
#include "rundir/run_layout.h"

namespace fwcanary::rollout {

namespace {

// One agent over the node's transport, its records streamed into `path`. Returns the window's
// error on this node, "" when none.
std::string RunOneAgent(const scenario::Scenario& sc, const scenario::Node* node, const std::string& window,
                        const WorkloadSpec& spec, const std::string& spec_text, const std::string& path,
                        double timeout, double silence, const std::function<bool()>& keep_going) {
  NodeSession session(sc, *node);
  std::string cmd = scenario::ShellQuote(node->vars.at("agent_path")) + " --spec - --workdir " +
                    scenario::ShellQuote(node->vars.at("workdir") + "/" + window) +
                    " --node " + scenario::ShellQuote(node->name) + " --seed " +
                    std::to_string(spec.seed) + " --cleanup";
  // One filler for the whole run (agents/workdir_fill.h): the baseline fills, every later
  // window finds the same bytes there, whatever the new firmware makes of them.
  if (spec.fill_to > 0) cmd += " --fill-dir " + scenario::ShellQuote(FillDir(*node));
  std::ofstream out(path);
  auto r = session.Run(cmd, timeout, spec_text, [&](const std::string& line) {
    out << line << "\n";
    out.flush();
    return !keep_going || keep_going();
  }, silence);
  std::string error;
  if (keep_going && !keep_going()) {
    // Stopped on purpose: not an error of the node.
  } else if (!r.ok()) {
    error = r.status().message();
  } else if (r->silent) {
    error = "the agent printed nothing for " + std::to_string(static_cast<int>(silence)) +
            " s (hung, or its storage is): abandoned";
  } else if (r->timed_out) {
    error = "the agent did not finish within " + std::to_string(static_cast<int>(timeout)) + " s";
  } else if (r->exit_code == 2 || !r->signal.empty()) {  // exit 1 (a message lost) is the judge's FAIL
    std::string err = r->err;
    while (!err.empty() && err.back() == '\n') err.pop_back();
    std::size_t last = err.find_last_of('\n');
    error = (r->signal.empty() ? "the agent failed (exit " + std::to_string(r->exit_code) + ")"
                               : "the agent was killed by SIG" + r->signal) +
            (err.empty() ? "" : ": " + (last == std::string::npos ? err : err.substr(last + 1)));
  }
  return error;
}

}  // namespace

std::string FillDir(const scenario::Node& node) { return node.vars.at("workdir") + "/fill"; }

WindowResult RunAgentWindow(const scenario::Scenario& sc,
                            const std::vector<const scenario::Node*>& clients,
                            const std::string& window, const WorkloadSpec& spec,
                            const std::string& run_dir, const std::function<void()>& during,
                            double during_delay_s,
                            const std::function<void(const std::string&)>& log,
                            const std::function<bool()>& keep_going) {
  WindowResult result;
  std::mutex mu;
  const std::string spec_text = spec.ToJson().dump();
  const double timeout = spec.MaxDurationSeconds() + spec.final_timeout_s + 120;
  // The agent prints a record every interval and a progress line at least every 10 s while it
  // finishes (agents/README.md): silence much longer than that is a hang, found long before
  // the deadline.
  const double silence = std::max(sc.ssh.silence_s, 3 * spec.interval_s);
  std::vector<std::thread> threads;
  for (const auto* node : clients) {
    std::string path = rundir::RunLayout(run_dir).SamplesPath(window, node->name);
    {
      std::lock_guard lock(mu);
      result.samples[node->name] = path;
    }
    threads.emplace_back([&, node, path] {
      std::string error;
      // An exception must not escape a thread (std::terminate, no rollback): it is this node's
      // window error instead.
      try {
        error = RunOneAgent(sc, node, window, spec, spec_text, path, timeout, silence, keep_going);
      } catch (const std::exception& e) {
        error = "internal error: " + SafeText(e.what());
      }
      std::lock_guard lock(mu);
      // Transport errors already name the node; say it once.
      if (error.rfind(node->name + ": ", 0) == 0) error.erase(0, node->name.size() + 2);
      if (!error.empty()) result.errors.push_back(node->name + ": " + error);
    });
  }
  log(window + ": agents started on " + std::to_string(clients.size()) + " client(s), " +
      std::to_string(static_cast<int>(spec.MaxDurationSeconds())) + " s at most");
  // `during` (the flash and the activation) may throw: the agents' threads are joined first,
  // or their destructors would terminate the controller with the wave half flashed.
  std::exception_ptr thrown;
  if (during) {
    std::this_thread::sleep_for(std::chrono::duration<double>(during_delay_s));
    try {
      during();
    } catch (...) {
      thrown = std::current_exception();
    }
  }
  for (auto& t : threads) t.join();
  if (thrown) std::rethrow_exception(thrown);
  return result;
}

}  // namespace fwcanary::rollout
