#pragma once
// RenderRunReports: writes every form of a run's report into its run directory (report.json,
// junit.xml, report.html, summary.md, metrics.prom), each by write-to-temp-then-rename so a
// reader never sees half a file, and records the run in history.db when a path is given.
// Called by the controller when a run ends and by `fwcanary report RUN_DIR`.
//
// Thread safety: one call per run directory at a time.

#include <string>
#include <vector>

#include "common/status.h"

namespace fwcanary::reports {

struct RenderOptions {
  std::string history_db;  // empty: no history
};

// Returns the files written. A run whose model cannot be built (no journal) is an error naming
// the file; a history failure is reported after the files are written.
Result<std::vector<std::string>> RenderRunReports(const std::string& run_dir, const RenderOptions& o);

}  // namespace fwcanary::reports
