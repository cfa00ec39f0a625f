#pragma once
// history.db: runs across nights, in SQLite (path from the scenario's reports.history, default
// <reports.dir>/history.db). One row per run (scenario, firmware, verdict, exit code, run dir),
// the canary's figures per wave, phase and class, and the judge's verdict per metric. Recording a
// run again (a re-rendered report) replaces its rows, never duplicates them.
//
// `fwcanary history` prints the runs and, per phase and operation class, the trend of the
// canary's p99 and throughput across them, each run compared with the median of the passing
// runs before it (the slow creep no single night's baseline shows). The last N passing runs of
// a scenario also serve as a baseline: their sample files are what `fwcanary compare
// --history-baseline` compares a run against.
//
// Thread safety: one connection per call; SQLite's locking serializes writers.

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace fwcanary::reports {

Status RecordRun(const std::string& db_path, const nlohmann::json& model, const std::string& run_dir);

struct HistoryQuery {
  std::string scenario;  // empty: every scenario
  int last = 20;         // runs per scenario, newest last
};
Result<std::string> RenderHistory(const std::string& db_path, const HistoryQuery& q);

// Sample files of the canary's post-upgrade windows of the last `n` passing runs of `scenario`
// (newest first), for use as a baseline. Files that no longer exist are skipped.
Result<std::vector<std::string>> PassingRunSamples(const std::string& db_path, const std::string& scenario, int n);

}  // namespace fwcanary::reports
