#include "agents/records/ramp_knee.h"

#include <algorithm>
#include <cstdio>

namespace fwcanary {
namespace {

// Below these many operations a step's quantile is a handful of operations: not judged on it.
// (A p99 of 100 operations is its second slowest.)
constexpr uint64_t kMinOpsForP50 = 20;
constexpr uint64_t kMinOpsForP99 = 100;

std::string Fixed(double v, int digits) {
  char b[32];
  std::snprintf(b, sizeof(b), "%.*f", digits, v);
  return b;
}

std::string Ms(double us) { return Fixed(us / 1000, us < 10000 ? 1 : 0) + " ms"; }

Knee KneeOf(const RampKnees& r, const std::string& cls) {
  Knee k;
  for (const auto& s : r.steps) {
    if (r.base_rate > 0) k.served = std::max(k.served, s.achieved / r.base_rate);
  }
  for (const auto& s : r.steps) {
    if (!s.KeptUp(cls)) {
      k.next = s.multiplier;
      break;
    }
    k.knee = s.multiplier;
  }
  const std::string who = cls.empty() ? "" : cls + ": ";
  if (r.steps.empty()) {
    k.how = who + "no ramp step was measured";
  } else if (!k.next) {
    k.how = who + "keeps up at every step, to " + StepText(r.steps.back().multiplier) +
            " (the ramp's last): its knee is beyond the ramp";
  } else {
    const RampStep& bad = *std::find_if(r.steps.begin(), r.steps.end(),
                                        [&](const RampStep& s) { return s.multiplier == *k.next; });
    k.how = who + (k.knee ? "keeps up to " + StepText(*k.knee) + " the steady rate; at " + StepText(*k.next)
                          : "does not keep up at the ramp's first step, " + StepText(*k.next)) +
            ": " + bad.Why(cls) + " (it served at most " + StepText(k.served) + ")";
  }
  return k;
}

}  // namespace

bool RampStep::KeptUp(const std::string& cls) const {
  if (!why.empty()) return false;
  if (!cls.empty()) {
    auto it = class_why.find(cls);
    return it == class_why.end() || it->second.empty();
  }
  return std::all_of(class_why.begin(), class_why.end(), [](const auto& kv) { return kv.second.empty(); });
}

std::string RampStep::Why(const std::string& cls) const {
  if (!why.empty()) return why;
  if (!cls.empty()) {
    auto it = class_why.find(cls);
    return it == class_why.end() ? "" : it->second;
  }
  for (const auto& [c, w] : class_why) {
    if (!w.empty()) return c + " " + w;
  }
  return "";
}

std::string StepText(double m) {
  std::string t = Fixed(m, 2);
  while (t.back() == '0') t.pop_back();
  if (t.back() == '.') t.pop_back();
  return t + "x";
}

RampStep JudgeRampStep(const std::vector<IntervalRecord>& step, const KneeRule& rule, const RampStep* first) {
  RampStep s;
  if (step.empty()) return s;
  s.multiplier = step.front().ramp_step;
  for (const auto& r : step) s.refused += r.ops.count("deliver") ? r.ops.at("deliver").refused : 0;
  // The first interval still serves the backlog of the step before: left out when there are
  // enough others.
  const std::size_t from = step.size() >= 3 ? 1 : 0;
  const double depth_before = from == 1 ? static_cast<double>(step[0].queue_depth) : 0.0;
  double offered = 0, achieved = 0;
  std::map<std::string, OpStats> ops;
  for (std::size_t i = from; i < step.size(); ++i) {
    const IntervalRecord& r = step[i];
    s.seconds += r.dt;
    offered += r.offered_rate * r.dt;
    achieved += r.achieved_rate * r.dt;
    for (const auto& [cls, st] : r.ops) ops[cls].Merge(st);
  }
  if (s.seconds > 0) {
    s.offered = offered / s.seconds;
    s.achieved = achieved / s.seconds;
    s.backlog_growth = (static_cast<double>(step.back().queue_depth) - depth_before) / s.seconds;
  }
  if (s.refused > 0) {
    s.why = std::to_string(s.refused) + " deliveries refused (the backlog or free-space limit was reached)";
  } else if (s.achieved < rule.keep_up * s.offered) {
    s.why = "served " + Fixed(100 * s.achieved / s.offered, 0) + "% of the offered " + Fixed(s.offered, 0) +
            " ops/s (keeping up is at least " + Fixed(100 * rule.keep_up, 0) + "%)";
  } else if (s.backlog_growth > (1 - rule.keep_up) * s.offered) {
    s.why = "the delivery backlog grew " + Fixed(s.backlog_growth, 1) + "/s";
  }
  for (const auto& [cls, st] : ops) {
    std::string& why = s.class_why[cls];
    if (st.count > 0 && static_cast<double>(st.errors) > kKneeErrorFraction * static_cast<double>(st.count)) {
      why = Fixed(100.0 * static_cast<double>(st.errors) / static_cast<double>(st.count), 1) +
            "% of its operations failed";
      continue;
    }
    if (st.count >= kMinOpsForP50) s.p50_us[cls] = st.hist.Quantile(0.5);
    if (st.count >= kMinOpsForP99) s.p99_us[cls] = st.hist.Quantile(0.99);
    auto lim = rule.p99_limit_us.find(cls);
    if (lim != rule.p99_limit_us.end() && s.p99_us.count(cls) && s.p99_us[cls] > lim->second) {
      why = "p99 " + Ms(s.p99_us[cls]) + " over its SLO of " + Ms(lim->second);
      continue;
    }
    if (first == nullptr || !s.p50_us.count(cls)) continue;
    auto ref = first->p50_us.find(cls);
    const double p50 = s.p50_us[cls];
    if (ref != first->p50_us.end() && ref->second > 0 && p50 > rule.latency_factor * ref->second) {
      why = "median " + Ms(p50) + ", " + Fixed(p50 / ref->second, 1) + "x its " + Ms(ref->second) +
            " at the first step (at most " + Fixed(rule.latency_factor, 1) + "x): it queues";
    }
  }
  return s;
}

RampKnees FindKnees(const std::vector<IntervalRecord>& ramp, const KneeRule& rule) {
  RampKnees out;
  std::vector<IntervalRecord> step;
  auto close = [&] {
    if (step.empty()) return;
    out.steps.push_back(JudgeRampStep(step, rule, out.steps.empty() ? nullptr : &out.steps.front()));
    step.clear();
  };
  for (const auto& r : ramp) {
    if (r.ramp_step <= 0) continue;
    if (out.base_rate == 0 && r.intended_rate > 0) out.base_rate = r.intended_rate / r.ramp_step;
    if (!step.empty() && step.back().ramp_step != r.ramp_step) close();
    step.push_back(r);
  }
  close();
  out.node = KneeOf(out, "");
  std::map<std::string, bool> classes;
  for (const auto& s : out.steps) {
    for (const auto& [cls, why] : s.class_why) classes[cls] = true;
  }
  for (const auto& [cls, unused] : classes) out.classes[cls] = KneeOf(out, cls);
  return out;
}

}  // namespace fwcanary
