#pragma once
// Which interval records of one node's agent run are judged: the one rule the judge
// (harness/judge/samples.h) and the reports (rundir/samples_file.h) share, so a report's
// per-phase figures are computed over the same seconds the verdict was.
//   - a sliver is not judged: the last interval of a phase may be a fraction of a second, and
//     under a quarter second it carries almost no information and a noisy rate;
//   - the warm-up is not judged: the start of the run's first phase (cold caches, empty
//     mailboxes), `seconds` long but never more than `fraction` of that phase; an interval is in
//     it when its midpoint is (by its end, a millisecond of timer jitter at the edge kept an
//     interval in one window and dropped it in the other, and unpaired their blocks). A run
//     whose first phase is a drain has no warm-up.
//
// Thread safety: pure function.

#include <set>
#include <string>
#include <vector>

#include "agents/records/records.h"

namespace fwcanary {

struct WarmupRule {
  double seconds = 5;
  double fraction = 0.2;
};

inline constexpr double kSliverSeconds = 0.25;

// `run`: one node's interval records in the order it wrote them; `drain_phases`: the phases its
// summary marks as drains. One flag per record: true when it is judged.
std::vector<bool> JudgedIntervals(const std::vector<IntervalRecord>& run,
                                  const std::set<std::string>& drain_phases,
                                  const WarmupRule& rule);

}  // namespace fwcanary
