#include "harness/rollout/plan.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <sstream>

#include "harness/judge/judge.h"
#include "harness/scenario/command_template.h"

namespace fwcanary::rollout {

using scenario::Node;
using scenario::Scenario;

Plan MakePlan(const Scenario& sc) {
  std::vector<const Node*> targets = sc.inventory.Targets();
  const int total = static_cast<int>(targets.size());
  Plan plan;
  std::size_t next = 0;
  for (std::size_t i = 0; next < targets.size(); ++i) {
    const std::string& w = sc.rollout.waves[std::min(i, sc.rollout.waves.size() - 1)];
    int size = 0;
    if (!w.empty() && w.back() == '%') {
      // strtod/strtol, not stod/stoi: the schema bounded them; these never throw.
      double pct = std::strtod(w.substr(0, w.size() - 1).c_str(), nullptr);
      size = std::max(1, static_cast<int>(std::floor(pct * total / 100.0)));
    } else {
      size = static_cast<int>(std::clamp(std::strtol(w.c_str(), nullptr, 10), 1L, 1000000L));
    }
    Wave wave;
    wave.number = static_cast<int>(i) + 1;
    for (int k = 0; k < size && next < targets.size(); ++k) wave.nodes.push_back(targets[next++]);
    plan.waves.push_back(std::move(wave));
  }
  return plan;
}

std::map<std::string, std::string> NodeValues(const Scenario& sc, const Node& n) {
  std::map<std::string, std::string> v = {{"image", sc.firmware.image},
                                          {"version", sc.firmware.version},
                                          {"rollback_image", sc.firmware.rollback_image},
                                          {"node.name", n.name},
                                          {"node.host", n.host}};
  for (const auto& [k, val] : n.vars) v["node." + k] = val;
  return v;
}

namespace {

std::string Cmd(const Scenario& sc, const Node& n, const scenario::TimedCommand& c) {
  auto r = scenario::Expand(c.run, NodeValues(sc, n));
  std::ostringstream o;
  o << (r.ok() ? r.value() : "<" + r.status().message() + ">") << "   (timeout " << c.timeout_s
    << " s)";
  return o.str();
}

std::string LockPathShown(const Scenario& sc, const Node& n) {
  auto r = scenario::Expand(sc.rollout.lock_path, NodeValues(sc, n));
  return r.ok() ? r.value() : "<" + r.status().message() + ">";
}

// The timed phases shorter than the judge's default run length (the first is the steady one,
// every later one a surge or the like); empty when none is. Shorter windows are as safe (a
// regression at the tolerance passes as rarely) but end INCONCLUSIVE more often, so the plan
// says so.
std::string ShortPhases(const Scenario& sc) {
  std::string out;
  bool first = true;
  for (const auto& p : sc.workload.phases) {
    if (p.drain) continue;
    const double wanted = first ? judge::kDefaultSteadyS : judge::kDefaultSurgeS;
    first = false;
    if (p.duration_s >= wanted) continue;
    std::ostringstream o;
    o << (out.empty() ? "" : ", ") << p.name << " " << p.duration_s << " s";
    out += o.str();
  }
  return out;
}

}  // namespace

std::string RenderPlan(const Scenario& sc, const Plan& plan) {
  std::ostringstream o;
  o << "scenario " << sc.name << " (" << sc.source << ")\n";
  if (!sc.description.empty()) o << "  " << sc.description << "\n";
  o << "firmware: flash " << sc.firmware.image << ", expect version " << sc.firmware.version
    << (sc.firmware.reboots ? ", node reboots (new boot id within " : ", no reboot (within ")
    << sc.firmware.reboot_timeout_s << " s), stable for " << sc.firmware.stable_s << " s\n";
  o << "transport: " << sc.transport;
  if (sc.transport == "ssh") {
    o << ", host keys " << sc.ssh.host_keys << " (" << sc.ssh.known_hosts << "), "
      << (sc.ssh.identity_file.empty() ? "ssh-agent" : "key " + sc.ssh.identity_file)
      << ", " << sc.ssh.concurrency << " nodes at once";
  }
  o << "\ninventory: " << sc.inventory.source << "\n";
  for (const auto& n : sc.inventory.nodes) {
    std::string roles = std::string(n.target ? "target" : "") +
                        (n.target && n.client ? "+" : "") + (n.client ? "client" : "");
    o << "  " << n.name << "  " << n.user << (n.user.empty() ? "" : "@") << n.host << ":"
      << n.port << "  " << roles;
    if (n.client && n.writes_to != n.name) o << " (writes to " << n.writes_to << ")";
    o << "\n";
  }
  o << "workload: " << sc.workload.engine << " at " << sc.workload.rate << " ops/s;";
  for (const auto& p : sc.workload.phases) {
    o << " " << p.name << " " << p.duration_s << " s";
    if (p.drain) {
      o << " (drain)";
    } else if (p.multiplier != 1) {
      o << " (x" << p.multiplier << ")";
    }
  }
  o << "\n";
  if (std::string short_phases = ShortPhases(sc); !short_phases.empty()) {
    o << "  note: shorter than the judge's default run length (" << judge::kDefaultSteadyS
      << " s steady, " << judge::kDefaultSurgeS << " s surge): " << short_phases
      << "; on a noisy rack expect INCONCLUSIVE (exit 3, run longer) more often. `fwcanary "
         "calibrate` on A/A runs of the rack tells whether these lengths suffice "
         "(scenarios/README.md)\n";
  }
  o << "plan: preflight (connect, health, drift snapshot, version + boot id, agent) -> "
       "baseline on every client\n";
  for (const auto& w : plan.waves) {
    o << "  wave " << w.number << (w.number == 1 ? " (canary)" : "") << ":";
    for (const auto* n : w.nodes) o << " " << n->name;
    o << "   -> upgrade under load, wait for activation (version, stability), health, drift, "
         "post-upgrade phases, judge (control: targets not yet upgraded)\n";
  }
  o << "  on FAIL: halt, roll back the wave's nodes; max failures " << sc.rollout.max_failures
    << "; pause between waves " << sc.rollout.pause_s << " s\n";
  o << "commands:\n";
  for (const auto& n : sc.inventory.nodes) {
    o << "  " << n.name << ":\n";
    if (n.target) {
      o << "    version:  " << Cmd(sc, n, sc.firmware.version_cmd) << "\n";
      o << "    boot id:  " << Cmd(sc, n, sc.firmware.boot_id_cmd) << "\n";
      o << "    upgrade:  " << Cmd(sc, n, sc.firmware.upgrade) << "\n";
      o << "    rollback: " << Cmd(sc, n, sc.firmware.rollback) << "\n";
      o << "    rollback check: "
        << (sc.firmware.rollback_check.run.empty()
                ? std::string(sc.rollout.allow_unrollbackable
                                  ? "none (allow_unrollbackable: flashed without one)"
                                  : "none: the run refuses to flash (set rollback_check_command)")
                : Cmd(sc, n, sc.firmware.rollback_check))
        << "\n";
    }
    if (n.client) {
      o << "    agent:    " << scenario::ShellQuote(n.vars.at("workdir")) << " via "
        << scenario::ShellQuote(n.vars.count("agent_path") ? n.vars.at("agent_path") : "?")
        << (n.writes_to != n.name ? " (storage of " + n.writes_to + ")" : "") << "\n";
    }
    o << "    lease:    " << LockPathShown(sc, n) << " (ttl " << sc.rollout.lock_ttl_s << " s)\n";
    for (const auto& c : sc.health) {
      if (c.AppliesTo(n)) o << "    health " << c.name << ": " << Cmd(sc, n, c.cmd) << "\n";
    }
    for (const auto& c : sc.drift) {
      if (c.AppliesTo(n)) o << "    drift " << c.name << ": " << Cmd(sc, n, c.cmd) << "\n";
    }
  }
  if (!sc.judge.tolerances.empty()) {
    o << "judge tolerances:";
    for (const auto& [k, v] : sc.judge.tolerances) o << " " << k << "=" << v;
    o << "\n";
  }
  o << "nothing was touched.\n";
  return o.str();
}

}  // namespace fwcanary::rollout
