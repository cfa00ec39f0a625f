#include "harness/judge/judge.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>

#include "common/exit_status.h"
#include "harness/judge/stats.h"

namespace fwcanary::judge {
namespace {

const char* kClasses[] = {"deliver", "retrieve", "scan"};

std::string Percent(const MetricDef& m, double x) {
  char buf[64];
  if (m.scale == Scale::kAbsolute) {
    std::snprintf(buf, sizeof buf, "%+.2f pp", x * 100);
  } else if (x > std::log(3.0)) {
    std::snprintf(buf, sizeof buf, "x%.1f", std::exp(x));
  } else {
    std::snprintf(buf, sizeof buf, "%+.0f%%", std::expm1(x) * 100);
  }
  return buf;
}

std::string Fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string TwoDigits(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2g", v);
  return buf;
}

std::vector<WindowStat> Measure(const MetricDef& m, const std::vector<const Run*>& runs,
                                const std::string& phase, const std::string& cls,
                                PooledWindowStats* stats) {
  std::vector<WindowStat> out;
  for (const Run* r : runs) {
    const Window* w = r->FindWindow(phase);
    if (w == nullptr) continue;
    if (auto s = stats->Measure(m, *w, cls)) out.push_back(*s);
  }
  return out;
}

// The block of the candidate that is worst against the reference value: what drove it.
std::string DrivingWindow(const MetricDef& m, const std::vector<WindowStat>& cand,
                          double ref_value) {
  double worst = -1e300;
  std::pair<double, double> span{0, 0};
  const double sign = m.direction == Direction::kHigherIsWorse ? 1.0 : -1.0;
  for (const auto& w : cand) {
    for (std::size_t b = 0; b < w.blocks.size(); ++b) {
      double bad = sign * (w.blocks[b].second - ref_value);
      if (bad > worst) {
        worst = bad;
        double end = b + 1 < w.blocks.size() ? w.blocks[b + 1].first : w.t_end;
        span = {w.blocks[b].first, end};
      }
    }
    if (w.blocks.empty() && worst == -1e300) span = {w.t_begin, w.t_end};
  }
  return "t=" + Fixed(span.first, 0) + "-" + Fixed(span.second, 0) + "s";
}

// How much more data an INCONCLUSIVE needs, from the comparison that decides PASS (the
// difference in differences when control nodes ran both windows): the standard error must
// shrink until the tolerance is (t_conf + t_0.8) standard errors away. Within-run noise shrinks
// with the square root of the length; run-to-run noise only with more runs or more controls,
// so when it is most of the uncertainty, "run longer" would waste a night.
std::string ExtendAdvice(const MetricDef& m, const MetricVerdict& v, const JudgeConfig& cfg) {
  auto tol = cfg.tolerances.find(m.name);
  double t = ToleranceOnScale(m, tol != cfg.tolerances.end() ? tol->second : m.tolerance);
  const bool did = v.vs_control_is_did && v.vs_control.available;
  const Comparison& c = did ? v.vs_control : v.vs_baseline;
  double needed = t / (StudentQuantile(cfg.confidence, c.df) + StudentQuantile(0.8, c.df));
  double factor = (c.se / needed) * (c.se / needed);
  if (c.noise_assumed) {
    return "more runs per side (or control nodes) are needed to measure run-to-run noise";
  }
  if (c.run_share >= 0.5) {
    return "run-to-run noise is " + Fixed(c.run_share * 100, 0) +
           "% of the uncertainty: repeat the runs about " + Fixed(std::max(1.5, factor), 1) +
           "x as many times or add control nodes; a longer run alone will not settle it";
  }
  return "run about " + Fixed(std::max(1.5, factor), 1) + "x longer or repeat as many times";
}

std::string Sentence(const MetricDef& m, const MetricVerdict& v, const std::string& baseline_name) {
  std::string what = (v.cls.empty() ? "" : v.cls + " ") + m.name;
  std::string s = what + " " + Percent(m, v.vs_baseline.effect) + " [" +
                  Percent(m, v.vs_baseline.lo) + ", " + Percent(m, v.vs_baseline.hi) + "] vs " +
                  baseline_name;
  if (v.vs_control.available) s += " and " + Percent(m, v.vs_control.effect) + " vs control";
  s += " during " + v.phase + " on " + v.node;
  // The smallest worsening this data could detect, shown in the worse direction.
  double mde = m.direction == Direction::kHigherIsWorse ? v.vs_baseline.mde : -v.vs_baseline.mde;
  s += " (p=" + TwoDigits(v.p_adjusted) + ", detectable " + Percent(m, mde) + ")";
  if (v.vs_baseline.noise_assumed) s += "; one run per side: run-to-run noise assumed";
  return s;
}

}  // namespace

int ExitCodeFor(Verdict v) {
  switch (v) {
    case Verdict::kPass:
      return kExitPass;
    case Verdict::kFail:
      return kExitRegression;
    case Verdict::kInconclusive:
      return kExitInconclusive;
  }
  return kExitError;
}

JudgeResult Judge(const JudgeInput& in, const JudgeConfig& cfg) {
  JudgeResult res;
  // Integrity first: a lost or corrupt message is a FAIL whatever the statistics say.
  auto integrity = [&](const std::vector<Run>& runs, const char* side) {
    for (const auto& r : runs) {
      if (!r.lost.empty() || !r.corrupt.empty()) {
        std::string ids;
        for (std::size_t i = 0; i < r.lost.size() && i < 5; ++i) ids += " " + r.lost[i];
        for (std::size_t i = 0; i < r.corrupt.size() && i < 5; ++i) ids += " " + r.corrupt[i];
        res.integrity.push_back(std::string(side) + " " + r.node + " (" + r.id + "): " +
                                std::to_string(r.lost.size()) + " lost, " +
                                std::to_string(r.corrupt.size()) + " corrupt:" + ids);
      }
      if (!r.error.empty()) {
        res.notes.push_back(std::string(side) + " " + r.node + " stopped early: " + r.error);
      }
    }
  };
  integrity(in.baseline, "baseline");
  integrity(in.candidate, "candidate");
  integrity(in.control, "control");

  // Nodes are matched by name; if the sides share none (two files from different machines),
  // the whole baseline is the reference for every candidate node.
  std::set<std::string> base_nodes, cand_nodes;
  for (const auto& r : in.baseline) base_nodes.insert(r.node);
  for (const auto& r : in.candidate) cand_nodes.insert(r.node);
  bool shared = false;
  for (const auto& n : cand_nodes) shared = shared || base_nodes.count(n) > 0;

  std::vector<const Run*> control, all_runs;
  for (const auto& r : in.control) control.push_back(&r);
  for (const auto* side : {&in.baseline, &in.candidate, &in.control}) {
    for (const auto& r : *side) all_runs.push_back(&r);
  }
  PooledWindowStats stats(all_runs);

  for (const auto& node : cand_nodes) {
    std::vector<const Run*> base, cand;
    for (const auto& r : in.baseline) {
      if (!shared || r.node == node) base.push_back(&r);
    }
    for (const auto& r : in.candidate) {
      if (r.node == node) cand.push_back(&r);
    }
    std::vector<std::string> phases;
    for (const Run* r : cand) {
      for (const auto& w : r->windows) {
        if (std::find(phases.begin(), phases.end(), w.phase) == phases.end()) {
          phases.push_back(w.phase);
        }
      }
    }
    auto control_diffs = [&](const MetricDef& m, const std::string& phase,
                             const std::string& cls) {
      ControlDiffs diffs;
      std::vector<WindowStat> k;
      for (const Run* kr : control) {
        const Window* kw = kr->FindWindow(phase);
        if (kw == nullptr) continue;
        auto ks = stats.Measure(m, *kw, cls);
        if (!ks) continue;
        k.push_back(*ks);
        for (const auto& br : in.baseline) {
          if (br.node != kr->node) continue;
          const Window* bw = br.FindWindow(phase);
          auto bs = bw ? stats.Measure(m, *bw, cls) : std::nullopt;
          if (!bs) continue;
          diffs.d.push_back(ks->value - bs->value);
          double pdf = 0;
          diffs.within.push_back(std::max(PairedWithinVar(*bs, *ks, &pdf), 0.0));
          break;
        }
      }
      return std::make_pair(diffs, k);
    };
    // The run-to-run part of a difference, pooled per metric over phases and classes: a
    // 3-node lab has only two controls, and one degree of freedom per group says little.
    std::map<std::string, std::pair<double, double>> pooled;
    for (const auto& m : Metrics()) {
      double ss = 0, dfs = 0, wsum = 0, wn = 0;
      for (const auto& phase : phases) {
        for (const char* cls : m.per_class ? std::vector<const char*>{"deliver", "retrieve", "scan"}
                                           : std::vector<const char*>{""}) {
          ControlDiffs d = control_diffs(m, phase, cls).first;
          if (d.d.size() < 2) continue;
          double mean = Mean(d.d);
          for (double x : d.d) ss += (x - mean) * (x - mean);
          dfs += static_cast<double>(d.d.size() - 1);
          for (double w : d.within) wsum += w;
          wn += static_cast<double>(d.within.size());
        }
      }
      if (dfs > 0) pooled[m.name] = {std::max(0.0, ss / dfs - wsum / wn), dfs};
    }
    for (const auto& [name, var_df] : pooled) res.control_run_var[name] = var_df;
    for (const auto& phase : phases) {
      for (const auto& m : Metrics()) {
        std::vector<std::string> classes;
        if (m.per_class) {
          classes.assign(std::begin(kClasses), std::end(kClasses));
        } else {
          classes.push_back("");
        }
        for (const auto& cls : classes) {
          std::vector<WindowStat> b = Measure(m, base, phase, cls, &stats);
          std::vector<WindowStat> c = Measure(m, cand, phase, cls, &stats);
          if (b.empty()) continue;  // nothing to compare against (e.g. no scans in the mix)
          MetricVerdict v;
          v.node = node;
          v.phase = phase;
          v.cls = cls;
          v.metric = m.name;
          bool critical_metric =
              cfg.critical.empty()
                  ? m.critical
                  : std::find(cfg.critical.begin(), cfg.critical.end(), m.name) != cfg.critical.end();
          v.critical = critical_metric && (cls.empty() || IsCriticalClass(cls));
          if (c.empty()) {
            v.verdict = v.critical ? Verdict::kFail : Verdict::kInconclusive;
            v.sentence = (cls.empty() ? "" : cls + " ") + m.name + ": no data during " + phase +
                         " on " + node + " in the candidate, though the baseline has it";
            res.metrics.push_back(std::move(v));
            continue;
          }
          CompareOptions o;
          auto tol = cfg.tolerances.find(m.name);
          o.tolerance = ToleranceOnScale(m, tol != cfg.tolerances.end() ? tol->second : m.tolerance);
          o.confidence = cfg.confidence;
          o.alpha = cfg.alpha;
          auto noise = cfg.run_noise.find(m.name);
          o.prior_run_noise = noise != cfg.run_noise.end() ? noise->second : m.prior_run_noise;
          // Control nodes that ran both windows measure the run-to-run noise of a difference
          // and the shift every node saw; without their baselines they are a level reference.
          auto [diffs, k] = control_diffs(m, phase, cls);
          if (diffs.d.size() >= 2 && pooled.count(m.name) > 0) {
            diffs.pooled_run_var = pooled[m.name].first;
            diffs.pooled_run_df = pooled[m.name].second;
          }
          // One control: its difference removes the common shift, and an earlier judgment's
          // controls measured how much one node's difference strays beyond it.
          auto earlier = cfg.control_run_var.find(m.name);
          if (diffs.d.size() == 1 && earlier != cfg.control_run_var.end() &&
              earlier->second.second >= 1) {
            diffs.pooled_run_var = earlier->second.first;
            diffs.pooled_run_df = earlier->second.second;
          }
          if ((diffs.d.size() >= 2 || diffs.pooled_run_var >= 0) && b.size() == 1 &&
              c.size() == 1) {
            CompareOptions measured = o;
            RunVarianceFromControls(diffs, &measured.run_var, &measured.run_var_df);
            v.vs_baseline = Compare(m, b, c, measured);
            v.vs_control = CompareDiD(m, b.front(), c.front(), diffs, o);
            v.vs_control_is_did = true;
          } else {
            v.vs_baseline = Compare(m, b, c, o);
            if (!k.empty()) {
              CompareOptions ok = o;
              ok.prediction = true;
              v.vs_control = Compare(m, k, c, ok);
            }
          }
          v.window = DrivingWindow(m, c, Mean([&] {
                                     std::vector<double> x;
                                     for (const auto& s : b) x.push_back(s.value);
                                     return x;
                                   }()));
          res.metrics.push_back(std::move(v));
        }
      }
    }
  }

  // Combine the comparisons, then control the false-discovery rate across every judgment.
  std::vector<double> p;
  std::vector<std::size_t> idx;
  for (std::size_t i = 0; i < res.metrics.size(); ++i) {
    auto& v = res.metrics[i];
    if (!v.vs_baseline.available) continue;
    // FAIL needs every comparison to blame the candidate. PASS needs the best-controlled
    // comparison to clear it: the difference in differences when control nodes ran both
    // windows (it removes what every node saw), else every comparison available.
    bool all_fail = v.vs_baseline.provisional == Verdict::kFail &&
                    (!v.vs_control.available || v.vs_control.provisional == Verdict::kFail);
    bool did = v.vs_control.available && v.vs_control.n_cand == 1 && !v.vs_baseline.noise_assumed &&
               v.vs_control_is_did;
    bool pass = did ? v.vs_control.provisional == Verdict::kPass
                    : v.vs_baseline.provisional == Verdict::kPass &&
                          (!v.vs_control.available || v.vs_control.provisional == Verdict::kPass);
    v.verdict = all_fail ? Verdict::kFail : pass ? Verdict::kPass : Verdict::kInconclusive;
    // Intersection-union: the worsening is shown only if every comparison shows it.
    double pv = v.vs_baseline.p;
    if (v.vs_control.available) pv = std::max(pv, v.vs_control.p);
    p.push_back(pv);
    idx.push_back(i);
  }
  std::vector<double> adj = BenjaminiHochberg(p);
  for (std::size_t j = 0; j < idx.size(); ++j) {
    auto& v = res.metrics[idx[j]];
    v.p_adjusted = adj[j];
    if (v.verdict == Verdict::kFail && v.p_adjusted > cfg.alpha) v.verdict = Verdict::kInconclusive;
    v.sentence = Sentence(*FindMetric(v.metric), v, cfg.baseline_name);
  }
  bool assumed = false;
  for (const auto& v : res.metrics) assumed = assumed || v.vs_baseline.noise_assumed;
  if (assumed) {
    res.notes.push_back(
        "one run per side for some metrics: run-to-run noise could not be measured and was "
        "assumed (metric table or calibration); give more runs, control nodes, or run "
        "`fwcanary calibrate`");
  }

  // Overall. The score counts only decided metrics (like Kayenta's pass / (pass + fail)):
  // an INCONCLUSIVE metric asks for more data, it is not evidence of a regression.
  double w_decided = 0, w_pass = 0;
  const MetricVerdict* worst_critical = nullptr;
  const MetricVerdict* first_inconclusive = nullptr;
  for (const auto& v : res.metrics) {
    double w = v.critical ? 2 : 1;
    if (v.verdict != Verdict::kInconclusive) w_decided += w;
    if (v.verdict == Verdict::kPass) w_pass += w;
    if (v.critical && v.verdict == Verdict::kFail && worst_critical == nullptr) worst_critical = &v;
    if (v.critical && v.verdict == Verdict::kInconclusive && first_inconclusive == nullptr) {
      first_inconclusive = &v;
    }
  }
  res.score = w_decided > 0 ? 100 * w_pass / w_decided : 0;
  if (!res.integrity.empty()) {
    res.overall = Verdict::kFail;
    res.reason = "integrity: " + res.integrity.front();
  } else if (res.metrics.empty()) {
    res.overall = Verdict::kInconclusive;
    res.reason = "nothing to judge: baseline and candidate share no phase with data";
  } else if (worst_critical != nullptr) {
    res.overall = Verdict::kFail;
    res.reason = worst_critical->sentence;
  } else if (w_decided > 0 && res.score < cfg.fail_below_score) {
    res.overall = Verdict::kFail;
    res.reason = "score " + Fixed(res.score, 0) + " below " + Fixed(cfg.fail_below_score, 0) +
                 ": many non-critical metrics regressed";
  } else if (first_inconclusive != nullptr) {
    res.overall = Verdict::kInconclusive;
    res.reason = "the data cannot tell: " + first_inconclusive->sentence + "; " +
                 ExtendAdvice(*FindMetric(first_inconclusive->metric), *first_inconclusive, cfg);
  } else if (res.score < cfg.pass_score) {
    res.overall = Verdict::kInconclusive;
    res.reason = "score " + Fixed(res.score, 0) + " below " + Fixed(cfg.pass_score, 0) +
                 ": some non-critical metrics regressed";
  } else {
    res.overall = Verdict::kPass;
    res.reason = "every critical metric is within tolerance with " +
                 Fixed(cfg.confidence * 100, 0) + "% confidence (score " + Fixed(res.score, 0) +
                 ")";
  }
  return res;
}

}  // namespace fwcanary::judge
