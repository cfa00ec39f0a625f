#include "harness/rollout/rollout.h"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>

#include "common/exit_status.h"
#include "harness/judge/calibration.h"
#include "harness/judge/judge.h"
#include "harness/judge/verdict_render.h"
#include "harness/rollout/activation.h"
#include "harness/rollout/agent_window.h"
#include "harness/rollout/node_session.h"
#include "harness/rollout/plan.h"
#include "harness/scenario/command_template.h"

namespace fwcanary::rollout {
namespace {

namespace fs = std::filesystem;
using scenario::Node;
using scenario::Scenario;

class RunLog {
 public:
  explicit RunLog(const std::string& path) : out_(path) {}
  void operator()(const std::string& line) {
    std::lock_guard lock(mu_);
    std::time_t now = std::time(nullptr);
    char ts[32];
    std::strftime(ts, sizeof ts, "%H:%M:%S", std::localtime(&now));
    std::fprintf(stderr, "%s fwcanary: %s\n", ts, line.c_str());
    out_ << ts << " " << line << "\n";
    out_.flush();
  }

 private:
  std::mutex mu_;
  std::ofstream out_;
};

std::string RunDirFor(const Scenario& sc) {
  std::time_t now = std::time(nullptr);
  char ts[32];
  std::strftime(ts, sizeof ts, "%Y%m%d-%H%M%S", std::gmtime(&now));
  std::string base = sc.reports.dir + "/" + ts + "-" + sc.name;
  std::string dir = base;
  for (int i = 2; fs::exists(dir); ++i) dir = base + "-" + std::to_string(i);
  fs::create_directories(dir + "/samples");
  return dir;
}

struct NodeState {
  std::string version_before, boot_before;
  std::map<std::string, std::string> drift_before;  // check name -> output
  bool upgraded = false;
  bool failed = false;
};

std::vector<const Node*> ClientsOf(const Scenario& sc, const std::set<std::string>& targets) {
  std::vector<const Node*> out;
  for (const auto* c : sc.inventory.Clients()) {
    if (targets.count(c->writes_to) > 0) out.push_back(c);
  }
  return out;
}

std::vector<judge::Run> Load(const std::vector<std::string>& files, const std::string& what,
                             std::vector<std::string>* errors) {
  std::vector<judge::Run> runs;
  for (const auto& f : files) {
    auto r = judge::LoadRuns(f, judge::LoadOptions{});
    if (!r.ok()) {
      errors->push_back(what + ": " + r.status().message());
      continue;
    }
    for (auto& run : r.value()) runs.push_back(std::move(run));
  }
  return runs;
}

}  // namespace

int RunScenario(const Scenario& sc, const RunOptions& o) {
  const std::string dir = RunDirFor(sc);
  RunLog log(dir + "/run.log");
  log("run directory " + dir);
  const Plan plan = MakePlan(sc);
  std::map<std::string, NodeState> state;
  nlohmann::json result = {{"scenario", sc.name}, {"image", sc.firmware.image},
                           {"version", sc.firmware.version}, {"waves", nlohmann::json::array()}};
  auto finish = [&](int code, const std::string& why) {
    result["exit_code"] = code;
    result["reason"] = why;
    std::ofstream(dir + "/result.json") << result.dump(2) << "\n";
    log(std::string(code == kExitPass ? "PASS" : code == kExitRegression ? "FAIL"
                    : code == kExitInconclusive ? "INCONCLUSIVE" : "ERROR") + ": " + why);
    log("results in " + dir);
    return code;
  };

  // Preflight: every node answers, is healthy, and tells its firmware and boot; drift state is
  // snapshotted; the agent runs where clients need it.
  log("preflight: " + std::to_string(sc.inventory.nodes.size()) + " node(s)");
  for (const auto& n : sc.inventory.nodes) {
    NodeSession s(sc, n);
    NodeState& st = state[n.name];
    if (n.target) {
      auto v = s.Ask(sc.firmware.version_cmd);
      auto b = s.Ask(sc.firmware.boot_id_cmd);
      if (!v.ok()) return finish(kExitError, "preflight: " + v.status().message());
      if (!b.ok()) return finish(kExitError, "preflight: " + b.status().message());
      st.version_before = v.value();
      st.boot_before = b.value();
      if (st.version_before == sc.firmware.version) {
        return finish(kExitError, "preflight: " + n.name + " already runs " + sc.firmware.version +
                                      ": nothing to compare (never flash a node twice)");
      }
    }
    if (Status h = RunHealthChecks(sc, s); !h.ok()) return finish(kExitError, "preflight: " + h.message());
    for (const auto& d : sc.drift) {
      auto out = s.Ask(d.cmd);
      if (!out.ok()) return finish(kExitError, "preflight: drift check: " + out.status().message());
      st.drift_before[d.name] = out.value();
      std::ofstream(dir + "/drift-before-" + n.name + ".txt", std::ios::app)
          << "## " << d.name << "\n" << out.value() << "\n";
    }
    if (n.client) {
      // Each window gets <workdir>/<window>, created by the agent (with its marker).
      auto mk = s.Run("mkdir -p " + scenario::ShellQuote(n.vars.at("workdir")), 30);
      if (!mk.ok() || mk->exit_code != 0) {
        return finish(kExitError, "preflight: " + n.name + ": cannot create " + n.vars.at("workdir") +
                                      (mk.ok() ? ": " + mk->err : ": " + mk.status().message()));
      }
      std::string agent = scenario::ShellQuote(n.vars.at("agent_path"));
      auto r = s.Run(agent + " --version", 30);
      if (!r.ok() || r->exit_code != 0) {
        if (o.agent_binary.empty()) return finish(kExitError, "preflight: " + n.name + ": no agent at " + agent);
        log(n.name + ": deploying the agent to " + n.vars.at("agent_path"));
        if (Status p = s.Put(o.agent_binary, n.vars.at("agent_path"), 0755, 120); !p.ok()) {
          return finish(kExitError, "preflight: " + n.name + ": agent upload: " + p.message());
        }
      }
    }
    log(n.name + ": ok" + (n.target ? ", firmware " + st.version_before : std::string()));
  }

  // Baseline: every client, the whole workload, nothing upgraded.
  WindowResult baseline = RunAgentWindow(sc, sc.inventory.Clients(), "baseline", sc.workload, dir,
                                         nullptr, 0, std::ref(log));
  if (!baseline.errors.empty()) return finish(kExitError, "baseline: " + baseline.errors.front());

  std::set<std::string> upgraded;
  // Run-to-run noise measured on the controls of earlier waves: a last wave has no controls
  // left, and this is better than the metric table's assumption.
  std::map<std::string, double> measured_noise;
  auto rollback = [&](const std::vector<const Node*>& nodes) {
    bool ok = true;
    for (const auto* n : nodes) {
      NodeSession s(sc, *n);
      auto boot = s.Ask(sc.firmware.boot_id_cmd);
      auto r = s.Ask(sc.firmware.rollback);
      if (!r.ok()) {
        log(n->name + ": rollback failed: " + r.status().message());
        ok = false;
        continue;
      }
      auto a = WaitForActivation(sc, s, state[n->name].version_before,
                                 boot.ok() ? boot.value() : "", std::ref(log));
      if (!a.ok()) {
        log(n->name + ": rollback did not complete: " + a.status().message());
        ok = false;
      } else {
        log(n->name + ": rolled back to " + a->version);
      }
    }
    return ok;
  };

  for (const auto& wave : plan.waves) {
    std::string w = "wave" + std::to_string(wave.number);
    std::set<std::string> targets;
    for (const auto* n : wave.nodes) targets.insert(n->name);
    log(w + (wave.number == 1 ? " (canary)" : "") + ": upgrading " + std::to_string(targets.size()) +
        " node(s) to " + sc.firmware.image + " under load");

    // During: steady load on every client while the wave's targets flash.
    WorkloadSpec during = sc.workload;
    during.phases = {Phase{"during", o.during_s, std::nullopt, 1.0, false}};
    std::vector<std::string> failures;
    WindowResult dw = RunAgentWindow(sc, sc.inventory.Clients(), w + "-during", during, dir,
                                     [&] {
                                       for (const auto* n : wave.nodes) {
                                         NodeSession s(sc, *n);
                                         auto r = s.Ask(sc.firmware.upgrade);
                                         if (!r.ok()) {
                                           failures.push_back(n->name + ": upgrade command: " + r.status().message());
                                           state[n->name].failed = true;
                                         } else {
                                           log(n->name + ": " + r.value());
                                           state[n->name].upgraded = true;
                                         }
                                       }
                                     },
                                     2.0, std::ref(log));
    for (const auto* n : wave.nodes) {
      if (state[n->name].failed) continue;
      NodeSession s(sc, *n);
      auto a = WaitForActivation(sc, s, sc.firmware.version, state[n->name].boot_before, std::ref(log));
      if (!a.ok()) {
        failures.push_back(a.status().message());
        state[n->name].failed = true;
        continue;
      }
      log(n->name + ": active on " + a->version + " after " + std::to_string(static_cast<int>(a->seconds)) +
          " s, boot " + a->boot_id);
      upgraded.insert(n->name);
      // Drift: the settings a check snapshotted must read the same after the upgrade.
      for (const auto& d : sc.drift) {
        auto out = s.Ask(d.cmd);
        std::string after = out.ok() ? out.value() : "<" + out.status().message() + ">";
        if (after != state[n->name].drift_before[d.name]) {
          std::ofstream(dir + "/drift-after-" + n->name + ".txt", std::ios::app)
              << "## " << d.name << "\n" << after << "\n";
          failures.push_back(n->name + ": drift check '" + d.name + "' changed: before\n" +
                             state[n->name].drift_before[d.name] + "\nafter\n" + after);
        }
      }
    }
    nlohmann::json wj = {{"wave", wave.number}, {"nodes", std::vector<std::string>(targets.begin(), targets.end())},
                         {"failures", failures}};
    if (static_cast<int>(failures.size()) > sc.rollout.max_failures) {
      for (const auto& f : failures) log("FAILED " + f);
      result["waves"].push_back(wj);
      rollback(wave.nodes);
      bool infra = false;
      for (const auto* n : wave.nodes) infra = infra || (state[n->name].failed && !upgraded.count(n->name));
      return finish(infra ? kExitError : kExitRegression, failures.front());
    }

    // After: the whole workload again; the judge compares.
    WindowResult after = RunAgentWindow(sc, sc.inventory.Clients(), w, sc.workload, dir, nullptr, 0,
                                        std::ref(log));
    if (!after.errors.empty()) {
      rollback(wave.nodes);
      return finish(kExitError, w + ": " + after.errors.front());
    }
    std::vector<std::string> base_files, cand_files, ctrl_files, errors;
    for (const auto& [node, path] : baseline.samples) base_files.push_back(path);
    for (const auto* c : ClientsOf(sc, targets)) cand_files.push_back(after.samples[c->name]);
    std::set<std::string> not_yet;
    for (const auto* t : sc.inventory.Targets()) {
      if (!upgraded.count(t->name) && !targets.count(t->name)) not_yet.insert(t->name);
    }
    for (const auto* c : ClientsOf(sc, not_yet)) ctrl_files.push_back(after.samples[c->name]);
    judge::JudgeInput in{Load(base_files, "baseline", &errors), Load(cand_files, "candidate", &errors),
                         Load(ctrl_files, "control", &errors)};
    if (!errors.empty()) {
      rollback(wave.nodes);
      return finish(kExitError, errors.front());
    }
    judge::JudgeConfig cfg;
    cfg.tolerances = sc.judge.tolerances;
    cfg.alpha = sc.judge.alpha;
    cfg.critical = sc.judge.critical;
    cfg.run_noise = measured_noise;
    judge::JudgeResult verdict = judge::Judge(in, cfg);
    if (!in.control.empty()) {
      std::vector<std::pair<const judge::Run*, const judge::Run*>> pairs;
      for (const auto& k : in.control) {
        for (const auto& b : in.baseline) {
          if (b.node == k.node) pairs.push_back({&b, &k});
        }
      }
      measured_noise = judge::RunNoiseFromPairs(pairs);
    }
    std::ofstream(dir + "/verdict-" + w + ".json") << judge::ToJson(verdict, cfg).dump(2) << "\n";
    std::string table = judge::RenderTable(verdict, false);
    std::ofstream(dir + "/verdict-" + w + ".txt") << table;
    std::fputs(table.c_str(), stderr);
    wj["verdict"] = judge::VerdictName(verdict.overall);
    wj["reason"] = verdict.reason;
    wj["controls"] = std::vector<std::string>(not_yet.begin(), not_yet.end());
    result["waves"].push_back(wj);
    if (verdict.overall != judge::Verdict::kPass) {
      log(w + ": " + judge::VerdictName(verdict.overall) + ": halting and rolling back " +
          std::to_string(wave.nodes.size()) + " node(s)");
      bool rolled = rollback(wave.nodes);
      int code = judge::ExitCodeFor(verdict.overall);
      return finish(rolled ? code : kExitError,
                    verdict.reason + (rolled ? "" : " (and the rollback did not complete)"));
    }
    log(w + ": PASS: " + verdict.reason);
    if (sc.rollout.pause_s > 0) {
      std::this_thread::sleep_for(std::chrono::duration<double>(sc.rollout.pause_s));
    }
  }

  // Postflight.
  for (const auto& n : sc.inventory.nodes) {
    NodeSession s(sc, n);
    if (Status h = RunHealthChecks(sc, s); !h.ok()) return finish(kExitError, "postflight: " + h.message());
  }
  return finish(kExitPass, "every wave passed; " + std::to_string(upgraded.size()) + " node(s) on " +
                               sc.firmware.version);
}

}  // namespace fwcanary::rollout
