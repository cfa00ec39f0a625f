#include "harness/judge/verdict_render.h"

#include <cmath>
#include <cstdio>
#include <map>
#include <string>

#include "fwcanary/version.h"

namespace fwcanary::judge {
namespace {

using nlohmann::json;

// Rounded so the JSON is stable across platforms' last-digit differences.
double R(double v) {
  if (!std::isfinite(v)) return v > 0 ? 1e308 : -1e308;
  return std::round(v * 1e6) / 1e6;
}

json ComparisonJson(const MetricDef& m, const Comparison& c) {
  if (!c.available) return nullptr;
  auto shown = [&](double x) {
    return m.scale == Scale::kAbsolute ? R(x) : R(std::expm1(x));
  };
  json out{{"effect", shown(c.effect)},
              {"low", shown(c.lo)},
              {"high", shown(c.hi)},
              {"p", R(c.p)},
              {"df", std::isfinite(c.df) && c.df < 1e7 ? nlohmann::json(R(c.df)) : nlohmann::json(nullptr)},
              {"detectable", shown(c.mde)},
              {"runs_reference", c.n_ref},
              {"runs_candidate", c.n_cand},
              {"noise_assumed", c.noise_assumed},
              {"provisional", VerdictName(c.provisional)}};
  // The assumed noise was widened for a client host busier on one side (cpu_run_delay_us).
  if (c.noise_widened) {
    out["cpu_delay_per_op_us"] = {{"reference", R(c.cpu_delay_ref_us)}, {"candidate", R(c.cpu_delay_cand_us)}};
  }
  return out;
}

// Per metric: what this judgment's controls measured of the run-to-run noise, with its degrees
// of freedom (`fwcanary compare --noise` pools it into a later judgment).
json ControlRunVarJson(const std::map<std::string, std::pair<double, double>>& v) {
  json out = json::object();
  for (const auto& [metric, var_df] : v) out[metric] = {{"var", var_df.first}, {"df", var_df.second}};
  return out;
}

}  // namespace

json ToJson(const JudgeResult& r, const JudgeConfig& cfg) {
  json metrics = json::array();
  for (const auto& v : r.metrics) {
    const MetricDef& m = *FindMetric(v.metric);
    metrics.push_back({{"node", v.node},
                       {"phase", v.phase},
                       {"class", v.cls},
                       {"metric", v.metric},
                       {"scale", m.scale == Scale::kAbsolute ? "absolute" : "ratio"},
                       {"critical", v.critical},
                       {"verdict", VerdictName(v.verdict)},
                       {"p_adjusted", R(v.p_adjusted)},
                       {"window", v.window},
                       {"vs_baseline", ComparisonJson(m, v.vs_baseline)},
                       {"vs_control", ComparisonJson(m, v.vs_control)},
                       // vs baseline with the stalled seconds left in (shown like "effect")
                       {"with_stalls", v.with_stalls ? json(m.scale == Scale::kAbsolute
                                                                ? R(*v.with_stalls)
                                                                : R(std::expm1(*v.with_stalls)))
                                                     : json(nullptr)},
                       {"sentence", v.sentence}});
  }
  return json{{"judge_version", kJudgeJsonVersion},
              {"tool_version", FWCANARY_VERSION},
              {"verdict", VerdictName(r.overall)},
              {"score", R(r.score)},
              {"reason", r.reason},
              {"alpha", cfg.alpha},
              {"confidence", cfg.confidence},
              {"integrity", r.integrity},
              {"notes", r.notes},
              {"stalls", r.stalls},
              {"control_run_var", ControlRunVarJson(r.control_run_var)},
              {"metrics", metrics}};
}

std::string RenderTable(const JudgeResult& r, bool verbose) {
  std::string out;
  char line[512];
  std::snprintf(line, sizeof line, "%-12s %-8s %-9s %-21s %-13s %s\n", "VERDICT", "NODE",
                "PHASE", "METRIC", "WINDOW", "EVIDENCE");
  out += line;
  int passes = 0;
  for (const auto& v : r.metrics) {
    if (v.verdict == Verdict::kPass && !verbose) {
      ++passes;
      continue;
    }
    std::string metric = (v.cls.empty() ? "" : v.cls + " ") + v.metric + (v.critical ? "*" : "");
    std::snprintf(line, sizeof line, "%-12s %-8s %-9s %-21s %-13s %s\n",
                  VerdictName(v.verdict), v.node.c_str(), v.phase.c_str(), metric.c_str(),
                  v.window.c_str(), v.sentence.c_str());
    out += line;
  }
  if (passes > 0) out += "(" + std::to_string(passes) + " metrics PASS; --verbose lists them)\n";
  for (const auto& i : r.integrity) out += "INTEGRITY " + i + "\n";
  for (const auto& n : r.notes) out += "note: " + n + "\n";
  for (const auto& st : r.stalls) out += "STALL " + st + "\n";
  std::snprintf(line, sizeof line, "\n%s (score %.0f): ", VerdictName(r.overall), r.score);
  out += line + r.reason + "\n";
  out += "(* critical metric)\n";
  return out;
}

}  // namespace fwcanary::judge
