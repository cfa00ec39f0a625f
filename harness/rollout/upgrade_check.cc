#include "harness/rollout/upgrade_check.h"

#include <algorithm>
#include <cmath>

namespace fwcanary::rollout {
namespace {

// The median throughput of the baseline window run at the during window's rate (its steady
// phase), so "back to baseline" is what this client did before, not what it was asked.
double BaselineRate(const std::string& file, double intended) {
  if (file.empty() || intended <= 0) return 0;
  auto runs = judge::LoadRuns(file, judge::LoadOptions{});
  if (!runs.ok()) return 0;
  for (const auto& run : runs.value()) {
    for (const auto& w : run.windows) {
      if (w.intervals.empty() || std::fabs(w.intervals.front().intended_rate - intended) > 0.01 * intended) continue;
      std::vector<double> v;
      for (const auto& r : w.intervals) v.push_back(r.achieved_rate);
      std::sort(v.begin(), v.end());
      return v[v.size() / 2];
    }
  }
  return 0;
}

}  // namespace

judge::UpgradeJudgment CheckUpgradeWindow(const UpgradeCheckInput& in) {
  std::vector<judge::Run> runs;  // owned here: the inputs point into it (reserved: never moves)
  runs.reserve(in.clients.size());
  std::vector<judge::UpgradeClientInput> inputs;
  for (const auto& [client, writes_to] : in.clients) {
    judge::UpgradeClientInput ci;
    ci.node = client;
    ci.upgraded = in.targets.count(writes_to) > 0;
    ci.ended_with_reboot = in.ended_with_reboot.count(client) > 0;
    auto it = in.during.find(client);
    if (it == in.during.end()) {
      ci.load_error = "no samples file";
    } else {
      // The whole window counts: the upgrade starts seconds into it, warm-up or not.
      judge::LoadOptions opts;
      opts.warmup_s = 0;
      auto loaded = judge::LoadRuns(it->second, opts);
      if (!loaded.ok()) {
        ci.load_error = loaded.status().message();
      } else if (loaded->empty()) {
        ci.load_error = "no records";
      } else {
        runs.push_back(std::move(loaded.value().front()));
        ci.run = &runs.back();
        const judge::Run& r = runs.back();
        double intended = r.windows.empty() || r.windows.front().intervals.empty()
                              ? 0
                              : r.windows.front().intervals.front().intended_rate;
        auto b = in.baseline.find(client);
        ci.baseline_rate = BaselineRate(b == in.baseline.end() ? "" : b->second, intended);
      }
    }
    inputs.push_back(ci);
  }
  return judge::JudgeUpgradeWindow(inputs, in.limits);
}

}  // namespace fwcanary::rollout
