#pragma once
// Samples: what the judge judges. Agent records (or fio output) grouped into runs and windows.
//
// A Run is one node's records from one agent run; a Window is that run's intervals of one
// phase (steady, surge, drain, ...), judged on its own. Warm-up (the start of a run's first
// phase: cold caches, empty mailboxes) is dropped when loading. Integrity (lost and corrupt
// message ids) comes from the run's summary record.
//
// Thread safety: plain values; loading has no shared state.

#include <optional>
#include <string>
#include <vector>

#include "agents/records/records.h"
#include "common/status.h"

namespace fwcanary::judge {

struct Window {
  std::string phase;
  std::vector<IntervalRecord> intervals;  // in time order, warm-up excluded
  bool drain = false;
  std::optional<double> drain_time_s;     // drain phases: time until the backlog was gone
};

struct Run {
  std::string id;    // where it came from (file, or file#document), for messages
  std::string node;  // node name from the records ("fio" for fio output)
  std::vector<Window> windows;
  // A ramp phase's intervals (IntervalRecord::ramp_step set), in time order: not a window, its
  // load climbs; its knee is the node's headroom (harness/judge/headroom.h).
  std::vector<IntervalRecord> ramp;
  bool has_summary = false;
  std::vector<std::string> lost;     // message ids
  std::vector<std::string> corrupt;
  std::string error;                 // the agent's own error, if its run stopped early

  const Window* FindWindow(const std::string& phase) const;
};

struct LoadOptions {
  double warmup_s = 5;           // dropped from the start of each run's first phase ...
  double warmup_fraction = 0.2;  // ... but never more than this share of that phase
};

// Parses agent JSON lines (several nodes may share one stream: one Run per node).
// Errors name "source:line".
Result<std::vector<Run>> ParseAgentRecords(const std::string& text, const std::string& source,
                                           const LoadOptions& opts);
// Parses fio --output-format=json/json+ output: one Run; with --status-interval documents the
// intervals are the differences between consecutive documents, else one interval.
Result<std::vector<Run>> ParseFioRuns(const std::string& text, const std::string& source);
// A file (agent records or fio JSON, told apart by content) or a directory (every *.jsonl,
// *.json file in it and in its samples/ subdirectory, sorted by name).
Result<std::vector<Run>> LoadRuns(const std::string& path, const LoadOptions& opts);

}  // namespace fwcanary::judge
