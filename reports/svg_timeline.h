#pragma once
// SvgTimeline: the run as a Gantt chart in inline SVG: one row per stage (preflight, baseline,
// wave<N> during/after/judge, rollback, postflight) and one per node, coloured by the node's
// state (ready, flashing, active, failed, rolling back, rolled back) over wall-clock time.
//
// Thread safety: pure function.

#include <string>
#include <vector>

namespace fwcanary::reports {

struct TimelineSegment {
  double t0 = 0, t1 = 0;  // seconds since the run started
  std::string state;      // picks the colour (node states, or "step")
  std::string label;      // shown on hover
};

struct TimelineRow {
  std::string label;
  std::vector<TimelineSegment> segments;
};

std::string RenderTimeline(const std::vector<TimelineRow>& rows, double duration_s, int width = 900);

// The colour the timeline and the page's legend use for a state.
std::string StateColor(const std::string& state);

}  // namespace fwcanary::reports
