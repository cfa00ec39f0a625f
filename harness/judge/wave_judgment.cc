#include "harness/judge/wave_judgment.h"

#include "harness/judge/calibration.h"

namespace fwcanary::judge {

WaveJudgment PlanWaveJudgment(const WaveContext& ctx) {
  WaveJudgment p;
  std::set<std::string> not_yet;
  for (const auto& t : ctx.all_targets) {
    if (!ctx.upgraded_before.count(t) && !ctx.targets.count(t)) not_yet.insert(t);
  }
  p.controls = not_yet;
  p.rolling = not_yet.empty() && !ctx.upgraded_before.empty() && !ctx.previous_after.empty();
  if (p.rolling) {
    p.controls = ctx.upgraded_before;
    p.reference = ctx.previous_window;
    for (const auto& [client, target] : ctx.clients) {
      auto it = ctx.previous_after.find(client);
      if (it != ctx.previous_after.end()) p.baseline_files.push_back(it->second);
    }
  } else {
    for (const auto& [client, path] : ctx.baseline) p.baseline_files.push_back(path);
  }
  for (const auto& [client, target] : ctx.clients) {
    const bool candidate = ctx.targets.count(target) > 0, control = p.controls.count(target) > 0;
    p.roles[client] = candidate                                       ? "canary"
                      : control || !ctx.upgraded_before.count(target) ? "control"
                                                                      : "upgraded";
    if (!candidate && !control) continue;
    auto it = ctx.after.find(client);
    if (it == ctx.after.end() || it->second.empty()) {
      p.errors.push_back((candidate ? "candidate " : "control ") + client +
                         ": no post-upgrade window was recorded");
      continue;
    }
    (candidate ? p.candidate_files : p.control_files).push_back(it->second);
  }
  p.config.tolerances = ctx.tolerances;
  p.config.alpha = ctx.alpha;
  p.config.pass_score = ctx.pass_score;
  p.config.fail_below_score = ctx.fail_below_score;
  p.config.critical = ctx.critical;
  p.config.run_noise = ctx.carried.run_noise;
  p.config.control_run_var = ctx.carried.control_run_var;
  if (p.rolling) p.config.baseline_name = p.reference + "'s window";
  return p;
}

CarriedNoise CarryNoise(const WaveJudgment& plan, const JudgeInput& in, const JudgeResult& result,
                        const CarriedNoise& before) {
  CarriedNoise next = before;
  if (!plan.rolling && !result.control_run_var.empty())
    next.control_run_var = result.control_run_var;
  if (!in.control.empty()) {
    std::vector<std::pair<const Run*, const Run*>> pairs;
    for (const auto& k : in.control) {
      for (const auto& b : in.baseline) {
        if (b.node == k.node) pairs.push_back({&b, &k});
      }
    }
    next.run_noise = RunNoiseFromPairs(pairs);
  }
  return next;
}

}  // namespace fwcanary::judge
