// fwcanary compare: the judge on its own, over agent record files, run directories or fio JSON.
#include <cstdio>
#include <iostream>

#include "common/exit_status.h"
#include "harness/cli/commands.h"
#include "harness/judge/calibration.h"
#include "harness/judge/judge.h"
#include "harness/judge/verdict_render.h"
#include "reports/history.h"

namespace fwcanary::cli {
namespace {

struct CompareArgs {
  std::vector<std::string> positional, baseline, candidate, control, tolerances, noise;
  std::string history, history_scenario;  // baseline from the last passing runs in history.db
  int history_runs = 5;
  bool json = false;
  bool verbose = false;
  judge::JudgeConfig cfg;
  judge::LoadOptions load;
};

bool Load(const std::vector<std::string>& paths, const judge::LoadOptions& o,
          std::vector<judge::Run>* out) {
  for (const auto& p : paths) {
    auto runs = judge::LoadRuns(p, o);
    if (!runs.ok()) {
      std::fprintf(stderr, "fwcanary compare: %s\n", runs.status().message().c_str());
      return false;
    }
    for (auto& r : runs.value()) out->push_back(std::move(r));
  }
  return true;
}

int RunCompare(CompareArgs& a) {
  if (a.positional.size() == 2) {
    a.baseline.push_back(a.positional[0]);
    a.candidate.push_back(a.positional[1]);
  } else if (!a.positional.empty()) {
    std::fprintf(stderr, "fwcanary compare: give BASELINE CANDIDATE, or --baseline/--candidate\n");
    return kExitError;
  }
  if (!a.history.empty()) {
    if (a.history_scenario.empty()) {
      std::fprintf(stderr, "fwcanary compare: --history needs --history-scenario NAME\n");
      return kExitError;
    }
    auto files = reports::PassingRunSamples(a.history, a.history_scenario, a.history_runs);
    if (!files.ok()) {
      std::fprintf(stderr, "fwcanary compare: --history %s\n", files.status().message().c_str());
      return kExitError;
    }
    std::fprintf(stderr, "fwcanary compare: baseline from %zu sample file(s) of the last passing run(s) of %s\n",
                 files->size(), a.history_scenario.c_str());
    for (const auto& f : files.value()) a.baseline.push_back(f);
  }
  if (a.baseline.empty() || a.candidate.empty()) {
    std::fprintf(stderr, "fwcanary compare: needs at least one baseline and one candidate run\n");
    return kExitError;
  }
  for (const auto& m : a.cfg.critical) {
    if (judge::FindMetric(m) == nullptr) {
      std::fprintf(stderr, "fwcanary compare: --critical %s: unknown metric\n", m.c_str());
      return kExitError;
    }
  }
  if (!ParseTolerances("compare", a.tolerances, &a.cfg)) return kExitError;
  for (const auto& file : a.noise) {
    if (Status s = judge::LoadNoise(file, &a.cfg); !s.ok()) {
      std::fprintf(stderr, "fwcanary compare: --noise %s\n", s.message().c_str());
      return kExitError;
    }
  }
  judge::JudgeInput in;
  if (!Load(a.baseline, a.load, &in.baseline) || !Load(a.candidate, a.load, &in.candidate) ||
      !Load(a.control, a.load, &in.control)) {
    return kExitError;
  }
  judge::JudgeResult r = judge::Judge(in, a.cfg);
  if (a.json) {
    std::cout << judge::ToJson(r, a.cfg).dump(2) << "\n";
  } else {
    std::cout << judge::RenderTable(r, a.verbose);
  }
  return judge::ExitCodeFor(r.overall);
}

}  // namespace

std::function<int()> SetupCompare(CLI::App& app) {
  auto a = std::make_shared<CompareArgs>();
  app.add_option("runs", a->positional, "BASELINE CANDIDATE (files or run directories)");
  app.add_option("--baseline", a->baseline, "a baseline run (repeatable)")
      ->allow_extra_args(false);
  app.add_option("--candidate", a->candidate, "a candidate run (repeatable)")
      ->allow_extra_args(false);
  app.add_option("--control", a->control,
                 "a control node's run in the candidate's time window (repeatable); give its "
                 "baseline window with --baseline: the judge pairs them by node name")
      ->allow_extra_args(false);
  app.add_option("--tolerance", a->tolerances, "METRIC=VALUE, e.g. p99=0.10 (repeatable)")
      ->allow_extra_args(false);
  app.add_option("--critical", a->cfg.critical, "a metric whose FAIL fails the verdict (repeatable; "
                                                "default: the metric table's)")
      ->allow_extra_args(false);
  app.add_option("--alpha", a->cfg.alpha, "false-discovery rate for FAILs")->check(
      CLI::Range(1e-6, 0.5));
  app.add_option("--warmup-s", a->load.warmup_s, "seconds dropped at the start of each run");
  app.add_option("--noise", a->noise,
                 "the rack's noise measured before (repeatable, pooled by degrees of freedom): "
                 "calibration JSON from `fwcanary calibrate --out`, or an earlier judgment "
                 "(`compare --json` output, a run's verdict-*.json) whose controls measured it")
      ->allow_extra_args(false);
  app.add_option("--history", a->history, "history.db: take the baseline from the canary samples of the "
                                           "last passing runs of --history-scenario");
  app.add_option("--history-scenario", a->history_scenario, "the scenario whose passing runs are the baseline");
  app.add_option("--history-runs", a->history_runs, "how many passing runs (default 5)")->check(CLI::Range(1, 1000));
  app.add_flag("--json", a->json, "machine-readable verdict");
  app.add_flag("--verbose", a->verbose, "list every metric, PASSes too");
  app.footer(
      "Control nodes: a control is a node that stayed on the old firmware while the canary\n"
      "ran the new one. Give its candidate-window run with --control and its baseline-window\n"
      "run with --baseline (the same node name in the records): the judge then compares the\n"
      "canary's change with the controls' change (difference in differences), which removes\n"
      "what every node saw, and the controls' spread measures the run-to-run noise. A\n"
      "control without a baseline run is only a level reference. With two controls that\n"
      "noise has 1-2 degrees of freedom; --noise adds what earlier judgments measured.\n"
      "  fwcanary compare --baseline canary-before.jsonl --candidate canary-after.jsonl \\\n"
      "    --baseline k1-before.jsonl --control k1-after.jsonl \\\n"
      "    --baseline k2-before.jsonl --control k2-after.jsonl --noise last-night/verdict-wave1.json\n"
      "Exit codes: 0 pass, 1 regression, 2 error, 3 inconclusive (the data cannot tell).");
  return [a] { return RunCompare(*a); };
}

}  // namespace fwcanary::cli
