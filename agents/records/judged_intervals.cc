#include "agents/records/judged_intervals.h"

#include <algorithm>

namespace fwcanary {

std::vector<bool> JudgedIntervals(const std::vector<IntervalRecord>& run,
                                  const std::set<std::string>& drain_phases,
                                  const WarmupRule& rule) {
  std::vector<bool> judged(run.size());
  for (std::size_t i = 0; i < run.size(); ++i) judged[i] = run[i].dt >= kSliverSeconds;
  if (run.empty()) return judged;
  const std::string& first = run.front().phase;
  if (drain_phases.count(first)) return judged;
  // The first phase's span, over the intervals that are not slivers.
  bool any = false;
  double start = 0, end = 0;
  for (std::size_t i = 0; i < run.size(); ++i) {
    if (!judged[i] || run[i].phase != first) continue;
    if (!any) start = run[i].t - run[i].dt;
    end = run[i].t;
    any = true;
  }
  if (!any) return judged;
  const double cut = std::min(rule.seconds, rule.fraction * (end - start));
  for (std::size_t i = 0; i < run.size(); ++i) {
    if (judged[i] && run[i].phase == first && run[i].t - run[i].dt / 2 - start < cut)
      judged[i] = false;
  }
  return judged;
}

}  // namespace fwcanary
