#pragma once
// The one reader of a run directory's samples files (samples/<window>-<node>.jsonl: one client's
// agent records of one window) for the reports: every interval in order, which of them the judge
// judged (agents/records/judged_intervals.h: the same rule, so a report's figures are computed
// over the seconds the verdict was), the summary when the agent wrote one, and the first error.
// A line cut short at the end of a file (a controller killed mid-write) is not an error.
//
// Thread safety: no shared state.

#include <optional>
#include <string>
#include <vector>

#include "agents/records/judged_intervals.h"
#include "agents/records/records.h"

namespace fwcanary::rundir {

struct SamplesFile {
  std::string file;   // as reports show it: "samples/<name>"
  std::string error;  // the first unreadable line, or why the file could not be read
  std::vector<IntervalRecord> intervals;
  std::vector<bool> judged;  // one per interval
  std::optional<SummaryRecord> summary;
};

SamplesFile ReadSamplesFile(const std::string& path, const WarmupRule& warmup = WarmupRule{});

}  // namespace fwcanary::rundir
