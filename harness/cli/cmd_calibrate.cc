// fwcanary calibrate: A/A. Repeated runs of the same firmware -> noise per metric, the smallest
// regression one run against one run can detect, and a warning where the tolerance is tighter.
#include <cstdio>
#include <fstream>
#include <iostream>

#include "common/exit_status.h"
#include "harness/cli/commands.h"
#include "harness/judge/calibration.h"

namespace fwcanary::cli {
namespace {

struct CalibrateArgs {
  std::vector<std::string> runs, tolerances;
  std::string out;
  bool json = false;
  judge::JudgeConfig cfg;
  judge::LoadOptions load;
};

int RunCalibrate(CalibrateArgs& a) {
  if (!ParseTolerances("calibrate", a.tolerances, &a.cfg)) return kExitError;
  std::vector<judge::Run> runs;
  for (const auto& p : a.runs) {
    auto r = judge::LoadRuns(p, a.load);
    if (!r.ok()) {
      std::fprintf(stderr, "fwcanary calibrate: %s\n", r.status().message().c_str());
      return kExitError;
    }
    for (auto& x : r.value()) runs.push_back(std::move(x));
  }
  judge::Calibration c = judge::Calibrate(runs, a.cfg);
  if (c.rows.empty() && runs.size() >= 2) {
    // One run per node: nodes of the same firmware are the replicates (node-to-node noise
    // counts as run-to-run noise, which is what a comparison against other nodes faces).
    for (auto& r : runs) r.node = "*";
    c = judge::Calibrate(runs, a.cfg);
    std::fprintf(stderr, "fwcanary calibrate: one run per node: nodes pooled as replicates\n");
  }
  if (c.rows.empty()) {
    std::fprintf(stderr, "fwcanary calibrate: needs at least two runs of the same node and "
                         "phase (got %zu runs)\n", runs.size());
    return kExitError;
  }
  nlohmann::json j = judge::CalibrationToJson(c);
  if (!a.out.empty()) {
    std::ofstream f(a.out);
    f << j.dump(2) << "\n";
    if (!f) {
      std::fprintf(stderr, "fwcanary calibrate: cannot write %s\n", a.out.c_str());
      return kExitError;
    }
  }
  if (a.json) {
    std::cout << j.dump(2) << "\n";
  } else {
    std::cout << judge::RenderCalibration(c);
  }
  return kExitPass;
}

}  // namespace

std::function<int()> SetupCalibrate(CLI::App& app) {
  auto a = std::make_shared<CalibrateArgs>();
  app.add_option("runs", a->runs, "runs of the same firmware (files or directories)")
      ->required();
  app.add_option("--out", a->out, "write the calibration JSON here (for compare --noise)");
  app.add_option("--tolerance", a->tolerances,
                 "METRIC=VALUE, the gate to check, e.g. a scenario's p50=0.05 (repeatable)")
      ->allow_extra_args(false);
  app.add_option("--alpha", a->cfg.alpha, "significance used for the detectable effect");
  app.add_option("--warmup-s", a->load.warmup_s, "seconds dropped at the start of each run");
  app.add_flag("--json", a->json, "machine-readable output");
  return [a] { return RunCalibrate(*a); };
}

}  // namespace fwcanary::cli
