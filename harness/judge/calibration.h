#pragma once
// Calibration (A/A): repeated runs of the same firmware tell how noisy each metric is, and so
// the smallest regression a comparison of one run against one run can detect. `fwcanary
// calibrate` prints it and warns where the tolerance asked for is below it; its JSON output
// feeds `fwcanary compare --noise` (the measured run-to-run noise replaces the table's guess).
//
// Thread safety: pure functions.

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/judge/judge.h"
#include "harness/judge/samples.h"

namespace fwcanary::judge {

struct NoiseRow {
  std::string node, phase, cls, metric;
  int runs = 0;
  double run_sd = 0;      // sd of one run's value across runs (on the metric's scale)
  double within_sd = 0;   // mean within-window sd (batch means)
  double run_noise = 0;   // sd of a one-vs-one difference beyond within noise (compare's prior)
  double detectable = 0;  // smallest worsening a one-vs-one comparison detects (alpha, 80%)
  double tolerance = 0;   // the tolerance in force (on the scale)
  bool too_tight = false; // tolerance below detectable
};

struct Calibration {
  std::vector<NoiseRow> rows;
  std::map<std::string, double> run_noise;  // by metric: the largest over phases and classes
};

// REQUIRES: runs of the same firmware; at least two windows per (node, phase) to measure.
Calibration Calibrate(const std::vector<Run>& runs, const JudgeConfig& cfg);

nlohmann::json CalibrationToJson(const Calibration& c);
std::string RenderCalibration(const Calibration& c);
// Run-to-run noise measured in a rollout itself: pairs of (baseline, later window) of nodes that
// were not changed in between (the controls). Per metric, the root mean square over nodes,
// phases and classes of the part of each difference beyond its within-window noise: what a
// later wave with no controls left uses instead of the table's assumed noise.
std::map<std::string, double> RunNoiseFromPairs(
    const std::vector<std::pair<const Run*, const Run*>>& pairs);

// Reads the "run_noise" map of CalibrationToJson output into cfg.run_noise.
Status LoadNoise(const std::string& path, JudgeConfig* cfg);

}  // namespace fwcanary::judge
