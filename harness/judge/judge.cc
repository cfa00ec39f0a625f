#include "harness/judge/judge.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>

#include "common/exit_status.h"
#include "harness/judge/stalls.h"
#include "harness/judge/stats.h"

namespace fwcanary::judge {
namespace {

const char* kClasses[] = {"deliver", "retrieve", "scan"};
constexpr int kMaxStallLines = 30;   // findings listed; the rest are counted
constexpr double kStallAlpha = 0.005;  // per canary node, for the stall verdict

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

// A wait per operation as people read it: "80 us", "1.6 ms".
std::string DelayText(double us) {
  return us < 1000 ? Fixed(us, 0) + " us" : Fixed(us / 1000, us < 10000 ? 1 : 0) + " ms";
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
// "widen the tolerance beyond +35%" when that is a number a person would consider; past x3 the
// data resolves nothing at this tolerance and the number would only confuse.
}  // namespace

double ToleranceFor(const JudgeConfig& cfg, const MetricDef& m, const std::string& cls, const std::string& phase) {
  for (const std::string& key : {cls.empty() ? std::string() : cls + "." + m.name + "." + phase,
                                 cls.empty() ? std::string() : cls + "." + m.name, m.name + "." + phase, m.name}) {
    if (key.empty()) continue;
    auto it = cfg.tolerances.find(key);
    if (it != cfg.tolerances.end()) return it->second;
  }
  return m.tolerance;
}

namespace {

std::string Widen(const MetricDef& m, double mde) {
  if (m.scale != Scale::kAbsolute && mde > std::log(3.0)) return "widen the tolerance";
  return "widen the tolerance beyond " + Percent(m, mde);
}

std::string ExtendAdvice(const MetricDef& m, const MetricVerdict& v, const JudgeConfig& cfg) {
  double t = ToleranceOnScale(m, ToleranceFor(cfg, m, v.cls, v.phase));
  const bool did = v.vs_control_is_did && v.vs_control.available;
  const Comparison& c = did ? v.vs_control : v.vs_baseline;
  if (c.noise_assumed) {
    std::string busy;
    if (c.noise_widened) {
      busy = "; the client host was busier in one run (the agent waited " + DelayText(c.cpu_delay_ref_us) +
             " vs " + DelayText(c.cpu_delay_cand_us) + " for a CPU per operation): run both sides on a host as quiet";
    }
    return "one run per side and no control nodes: run-to-run noise was assumed, not measured; "
           "add two or more control nodes that run both windows, or measure the noise once "
           "with `fwcanary calibrate` and pass it with --noise" + busy;
  }
  double needed = t / (StudentQuantile(cfg.confidence, c.df) + StudentQuantile(0.8, c.df));
  double factor = (c.se / needed) * (c.se / needed);
  const double run_var = c.run_share * c.se * c.se;
  const double within_var = c.se * c.se - run_var;
  if (c.run_share >= 0.5) {
    // More controls shrink the run-to-run part ((1 + 1/k) of it) and add degrees of freedom;
    // the canary's own run-to-run noise stays: if that alone is beyond reach, say so.
    const int k = std::max(1, did ? c.n_ref : 1);
    const double one_node = run_var / (1 + 1.0 / k);
    const double floor_needed = t / (StudentQuantile(cfg.confidence, 30) + StudentQuantile(0.8, 30));
    if (one_node + within_var >= floor_needed * floor_needed) {
      return "run-to-run noise (" + Fixed(c.run_share * 100, 0) + "% of the uncertainty) is "
             "larger than this tolerance allows on one canary run, whatever the controls: "
             "repeat the canary's runs (several --baseline and --candidate windows), run "
             "longer phases, or " + Widen(m, c.mde);
    }
    for (int more = 1; more <= 8; ++more) {
      const double kk = k + more;
      const double df = c.df * (kk - 1) / std::max(1.0, k - 1.0) + more;
      const double need = t / (StudentQuantile(cfg.confidence, df) + StudentQuantile(0.8, df));
      if (one_node * (1 + 1 / kk) + within_var <= need * need) {
        return "run-to-run noise is " + Fixed(c.run_share * 100, 0) + "% of the uncertainty: "
               "add about " + std::to_string(more) + " control node" + (more > 1 ? "s" : "") +
               " (" + std::to_string(k) + " now), or measure the rack's noise once with "
               "`fwcanary calibrate`; a longer run alone will not settle it";
      }
    }
    return "run-to-run noise is " + Fixed(c.run_share * 100, 0) + "% of the uncertainty: "
           "more than 8 more control nodes would be needed; measure the rack's noise with "
           "`fwcanary calibrate`, repeat the canary's runs, or " + Widen(m, c.mde);
  }
  if (factor > 8) {
    return "this tolerance is beyond what runs of this length resolve here (more than 8x "
           "longer would be needed): run at least 4x longer with more control nodes, or " +
           Widen(m, c.mde);
  }
  return "run about " + Fixed(std::max(1.5, factor), 1) + "x longer";
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
  if (v.vs_baseline.noise_widened) {
    s += ", widened for the agent's wait for a CPU (" + DelayText(v.vs_baseline.cpu_delay_ref_us) +
         " vs " + DelayText(v.vs_baseline.cpu_delay_cand_us) + " per operation)";
  }
  if (v.with_stalls) {
    s += "; judged without the stalled seconds (with them: " + Percent(m, *v.with_stalls) + ")";
  }
  return s;
}


double MeanValue(const std::vector<WindowStat>& w) {
  double sum = 0;
  for (const auto& s : w) sum += s.value;
  return w.empty() ? 0 : sum / static_cast<double>(w.size());
}

// The canary's stalls against every other window's, per hour of window: the exact conditional
// test (the canary's share of all stalls against its share of the time, binomial). FAIL when
// they recur (two or more), their rate is beyond the tolerance (default: twice the others') and
// p <= kStallAlpha. Not in the Benjamini-Hochberg family of the window metrics: a handful of
// stall counts in ~100 latency tests would need p ~ 1e-4, which a recurring stall on a rack
// that stalls now and then never reaches; at 0.005 per canary node an A/A run FAILs on it
// at most 0.5% of the time (the test is exact). nullopt: no window long enough to look in.
std::optional<MetricVerdict> StallVerdict(const std::string& node,
                                          const std::vector<const Run*>& cand,
                                          const std::vector<const Run*>& reference,
                                          const std::map<const Window*, WindowStalls>& stalls,
                                          const JudgeConfig& cfg) {
  const MetricDef& m = *FindMetric("stalls");
  struct Count {
    int stalls = 0, windows = 0;
    double seconds = 0;
    std::string first;  // where the first stall was
  };
  auto count = [&](const std::vector<const Run*>& runs) {
    Count c;
    for (const Run* r : runs) {
      for (const auto& w : r->windows) {
        if (w.intervals.size() < 20) continue;
        ++c.windows;
        c.seconds += w.intervals.back().t - w.intervals.front().t + w.intervals.front().dt;
        auto it = stalls.find(&w);
        if (it == stalls.end()) continue;
        if (c.first.empty()) {
          const StallSpan& s = it->second.spans.front();
          c.first = "t=" + Fixed(s.t_begin, 0) + "-" + Fixed(s.t_end, 0) + "s";
        }
        c.stalls += static_cast<int>(it->second.spans.size());
      }
    }
    return c;
  };
  const Count c = count(cand), r = count(reference);
  if (c.windows == 0 || c.seconds <= 0) return std::nullopt;
  MetricVerdict v;
  v.node = node;
  v.phase = "all";
  v.metric = m.name;
  v.critical = cfg.critical.empty() ? m.critical
                                    : std::find(cfg.critical.begin(), cfg.critical.end(),
                                                m.name) != cfg.critical.end();
  v.window = c.first.empty() ? "-" : c.first;
  const double tolerance = ToleranceOnScale(m, ToleranceFor(cfg, m, "", ""));
  Comparison& k = v.vs_baseline;
  k.available = true;
  k.n_cand = c.windows;
  k.n_ref = r.windows;
  const double per_h_c = 3600.0 * c.stalls / c.seconds;
  std::string sentence = "stalls: " + std::to_string(c.stalls) + " in " + node + "'s " +
                         std::to_string(c.windows) + " candidate window(s) (" + Fixed(per_h_c, 1) +
                         "/h)";
  if (r.windows == 0 || r.seconds <= 0) {
    k.provisional = c.stalls >= 2 ? Verdict::kInconclusive : Verdict::kPass;
    sentence += ", and no other window to compare with";
  } else {
    const double per_h_r = 3600.0 * r.stalls / r.seconds;
    k.effect = std::log(((c.stalls + 0.5) / c.seconds) / ((r.stalls + 0.5) / r.seconds));
    k.lo = k.hi = k.effect;
    k.p = BinomialUpperTail(c.stalls, c.stalls + r.stalls, c.seconds / (c.seconds + r.seconds));
    const bool fail = c.stalls >= 2 && k.effect > tolerance && k.p <= kStallAlpha;
    k.provisional = fail ? Verdict::kFail : Verdict::kPass;
    sentence += " against " + std::to_string(r.stalls) + " in " + std::to_string(r.windows) +
                " other windows (" + Fixed(per_h_r, 1) + "/h)";
    if (c.stalls > 0) sentence += " (p=" + TwoDigits(k.p) + ")";
    sentence += fail ? ": the canary stalls again and again, the others do not"
                     : c.stalls == 0 ? ""
                                     : ": not shown to be more often than the others (FAIL "
                                       "needs 2 or more, beyond the tolerance, p <= 0.005)";
  }
  v.verdict = k.provisional;
  v.p_adjusted = k.p;
  v.sentence = sentence;
  return v;
}

// Integrity first: a lost or corrupt message is a FAIL whatever the statistics say; an agent
// that stopped early is a note.
void CheckIntegrity(const std::vector<Run>& runs, const char* side, JudgeResult* res) {
  for (const auto& r : runs) {
    if (!r.lost.empty() || !r.corrupt.empty()) {
      std::string ids;
      for (std::size_t i = 0; i < r.lost.size() && i < 5; ++i) ids += " " + r.lost[i];
      for (std::size_t i = 0; i < r.corrupt.size() && i < 5; ++i) ids += " " + r.corrupt[i];
      res->integrity.push_back(std::string(side) + " " + r.node + " (" + r.id + "): " +
                               std::to_string(r.lost.size()) + " lost, " +
                               std::to_string(r.corrupt.size()) + " corrupt:" + ids);
    }
    if (!r.error.empty()) {
      res->notes.push_back(std::string(side) + " " + r.node + " stopped early: " + r.error);
    }
  }
}

// Short stalls: found in every window, each a finding of its own (a line in res->stalls), and
// left out of the latency metrics where they are short and few (harness/judge/stalls.h).
struct StallFindings {
  std::map<const Window*, WindowStalls> by_window;
  SkipMap skips;  // the excised ones, for PooledWindowStats
  bool Excised(const std::vector<const Run*>& runs, const std::string& phase) const {
    for (const Run* r : runs) {
      const Window* w = r->FindWindow(phase);
      if (w != nullptr && skips.count(w) > 0) return true;
    }
    return false;
  }
};

StallFindings FindAllStalls(const JudgeInput& in, JudgeResult* res) {
  StallFindings f;
  int lines = 0, more = 0;
  auto find = [&](const std::vector<Run>& runs, const char* side) {
    for (const auto& r : runs) {
      for (const auto& w : r.windows) {
        WindowStalls found = FindStalls(w);
        if (found.spans.empty()) continue;
        for (const auto& span : found.spans) {
          if (lines == kMaxStallLines) {
            ++more;
            continue;
          }
          ++lines;
          res->stalls.push_back(
              std::string(side) + " " + r.node + ": " + DescribeStall(span) + " in the " +
              w.phase + " window; " +
              (found.excised ? "latency judged without it"
                             : "kept in (" + std::to_string(found.spans.size()) +
                                   " stalls in this window, or one longer than " +
                                   Fixed(kMaxStallS, 0) + " s): latency judged with them"));
        }
        if (found.excised) f.skips[&w] = found.skip;
        f.by_window[&w] = std::move(found);
      }
    }
  };
  find(in.baseline, "baseline");
  find(in.candidate, "candidate");
  find(in.control, "control");
  if (more > 0) res->stalls.push_back("... and " + std::to_string(more) + " more stalls");
  return f;
}

// What the control nodes measured for one metric, phase and class: each control's difference
// between its two windows (with its within-window variance), and its candidate-time windows.
struct ControlMeasure {
  ControlDiffs diffs;
  std::vector<WindowStat> candidate_time;
};

ControlMeasure MeasureControls(const MetricDef& m, const std::string& phase, const std::string& cls,
                               const std::vector<const Run*>& control, const std::vector<Run>& baseline,
                               PooledWindowStats& stats) {
  ControlMeasure out;
  for (const Run* kr : control) {
    const Window* kw = kr->FindWindow(phase);
    if (kw == nullptr) continue;
    auto ks = stats.Measure(m, *kw, cls);
    if (!ks) continue;
    out.candidate_time.push_back(*ks);
    for (const auto& br : baseline) {
      if (br.node != kr->node) continue;
      const Window* bw = br.FindWindow(phase);
      auto bs = bw ? stats.Measure(m, *bw, cls) : std::nullopt;
      if (!bs) continue;
      out.diffs.nodes.push_back(kr->node);
      out.diffs.d.push_back(ks->value - bs->value);
      double pdf = 0;
      out.diffs.within.push_back(std::max(PairedWithinVar(*bs, *ks, &pdf), 0.0));
      break;
    }
  }
  return out;
}

std::vector<std::string> ClassesOf(const MetricDef& m) {
  if (!m.per_class) return {""};
  return std::vector<std::string>(std::begin(kClasses), std::end(kClasses));
}

// The run-to-run part of a difference, pooled per metric over phases and classes (a 3-node lab
// has only two controls, and one degree of freedom per group says little), as variance
// components with honest degrees of freedom (PoolRunVariance), and combined with what an
// earlier judgment's controls measured on the same rack, when given. Writes this judgment's own
// measurement to `measured`; returns the pooled one the comparisons use.
std::map<std::string, std::pair<double, double>> PoolControlVariance(
    const std::vector<std::string>& phases, const std::vector<const Run*>& control,
    const std::vector<Run>& baseline, PooledWindowStats& stats, const JudgeConfig& cfg,
    std::map<std::string, std::pair<double, double>>* measured) {
  std::map<std::string, std::pair<double, double>> pooled;
  for (const auto& m : Metrics()) {
    if (m.events) continue;
    std::vector<ControlDiffs> groups;
    for (const auto& phase : phases) {
      for (const char* cls : m.per_class ? std::vector<const char*>{"deliver", "retrieve", "scan"}
                                         : std::vector<const char*>{""}) {
        groups.push_back(MeasureControls(m, phase, cls, control, baseline, stats).diffs);
      }
    }
    RunVariance here = PoolRunVariance(groups);
    if (here.var >= 0) (*measured)[m.name] = {here.var, here.df};
    auto earlier = cfg.control_run_var.find(m.name);
    if (earlier != cfg.control_run_var.end() && earlier->second.second >= 1) {
      RunVariance before;
      before.var = earlier->second.first;
      before.df = earlier->second.second;
      here = CombineRunVariance(here, before);
    }
    if (here.var >= 0) pooled[m.name] = {here.var, here.df};
  }
  return pooled;
}

// Everything one metric's comparisons need about the node being judged.
struct NodeContext {
  const std::string& node;
  const std::vector<const Run*>& base;
  const std::vector<const Run*>& cand;
  const std::vector<const Run*>& control;
  const std::vector<Run>& baseline;  // every baseline run (the controls' own are in it)
  PooledWindowStats& stats;  // stalls excised (it caches: not const)
  PooledWindowStats& raw;    // stalls in, for the "with them" effect
  const StallFindings& stalls;
  const std::map<std::string, std::pair<double, double>>& pooled;
};

// One metric, class and phase of one node: its comparison vs its own baseline and vs the
// controls (a difference in differences when they ran both windows). nullopt: the baseline has
// no data there (e.g. no scans in the mix). The verdict is combined later (CombineComparisons).
std::optional<MetricVerdict> CompareMetric(const MetricDef& m, const std::string& phase,
                                           const std::string& cls, const NodeContext& n,
                                           const JudgeConfig& cfg) {
  std::vector<WindowStat> b = Measure(m, n.base, phase, cls, &n.stats);
  std::vector<WindowStat> c = Measure(m, n.cand, phase, cls, &n.stats);
  if (b.empty()) return std::nullopt;
  MetricVerdict v;
  v.node = n.node;
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
    v.sentence = (cls.empty() ? "" : cls + " ") + m.name + ": no data during " + phase + " on " +
                 n.node + " in the candidate, though the baseline has it";
    return v;
  }
  CompareOptions o;
  o.tolerance = ToleranceOnScale(m, ToleranceFor(cfg, m, cls, phase));
  o.confidence = cfg.confidence;
  o.alpha = cfg.alpha;
  auto noise = cfg.run_noise.find(m.name);
  o.prior_run_noise = noise != cfg.run_noise.end() ? noise->second : m.prior_run_noise;
  o.cpu_delay_noise = CpuDelayNoise(m);
  // Control nodes that ran both windows measure the run-to-run noise of a difference and the
  // shift every node saw; without their baselines they are a level reference.
  auto [diffs, k] = MeasureControls(m, phase, cls, n.control, n.baseline, n.stats);
  // With one control, its difference removes the common shift, and an earlier judgment's
  // controls measured how much one node's difference strays beyond it.
  if (n.pooled.count(m.name) > 0 &&
      (diffs.d.size() >= 2 || (diffs.d.size() == 1 && cfg.control_run_var.count(m.name) > 0))) {
    diffs.pooled_run_var = n.pooled.at(m.name).first;
    diffs.pooled_run_df = n.pooled.at(m.name).second;
  }
  if ((diffs.d.size() >= 2 || diffs.pooled_run_var >= 0) && b.size() == 1 && c.size() == 1) {
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
  if (m.quantile >= 0 && (n.stalls.Excised(n.base, phase) || n.stalls.Excised(n.cand, phase))) {
    std::vector<WindowStat> rb = Measure(m, n.base, phase, cls, &n.raw);
    std::vector<WindowStat> rc = Measure(m, n.cand, phase, cls, &n.raw);
    if (!rb.empty() && !rc.empty()) v.with_stalls = MeanValue(rc) - MeanValue(rb);
  }
  v.window = DrivingWindow(m, c, MeanValue(b));
  return v;
}

// Combines each metric's comparisons into its verdict, then controls the false-discovery rate
// across every judgment (Benjamini-Hochberg): a FAIL whose adjusted p is above alpha becomes
// INCONCLUSIVE. Writes every sentence.
void CombineComparisons(const JudgeConfig& cfg, JudgeResult* res) {
  std::vector<double> p;
  std::vector<std::size_t> idx;
  for (std::size_t i = 0; i < res->metrics.size(); ++i) {
    auto& v = res->metrics[i];
    if (!v.vs_baseline.available || FindMetric(v.metric)->events) continue;
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
    auto& v = res->metrics[idx[j]];
    v.p_adjusted = adj[j];
    if (v.verdict == Verdict::kFail && v.p_adjusted > cfg.alpha) v.verdict = Verdict::kInconclusive;
    v.sentence = Sentence(*FindMetric(v.metric), v, cfg.baseline_name);
  }
  bool assumed = false;
  for (const auto& v : res->metrics) assumed = assumed || v.vs_baseline.noise_assumed;
  if (assumed) {
    res->notes.push_back(
        "one run per side for some metrics: run-to-run noise could not be measured and was "
        "assumed (metric table or calibration); give more runs, control nodes, or run "
        "`fwcanary calibrate`");
  }
}

// The overall verdict and the reason a person reads first (harness/judge/judge.h).
void OverallVerdict(const JudgeConfig& cfg, JudgeResult* out) {
  JudgeResult& r = *out;
  // Overall. The score counts only decided metrics (like Kayenta's pass / (pass + fail)):
  // an INCONCLUSIVE metric asks for more data, it is not evidence of a regression.
  double w_decided = 0, w_pass = 0;
  const MetricVerdict* worst_critical = nullptr;
  const MetricVerdict* first_inconclusive = nullptr;
  int other_inconclusive = -1;
  // What matters most leads the reason: the largest worsening relative to its tolerance
  // (a class that moved before one that did not).
  auto weight = [&](const MetricVerdict& v) {
    const MetricDef& m = *FindMetric(v.metric);
    double t = ToleranceOnScale(m, ToleranceFor(cfg, m, v.cls, v.phase));
    const Comparison& c = v.vs_control_is_did && v.vs_control.available ? v.vs_control
                                                                         : v.vs_baseline;
    if (!c.available) return 1e9;  // no data at all in the candidate: first
    const double sign = m.direction == Direction::kHigherIsWorse ? 1.0 : -1.0;
    return t > 0 ? sign * c.effect / t : sign * c.effect;
  };
  for (const auto& v : r.metrics) {
    double w = v.critical ? 2 : 1;
    if (v.verdict != Verdict::kInconclusive) w_decided += w;
    if (v.verdict == Verdict::kPass) w_pass += w;
    if (v.critical && v.verdict == Verdict::kFail &&
        (worst_critical == nullptr || weight(v) > weight(*worst_critical))) {
      worst_critical = &v;
    }
    if (v.critical && v.verdict == Verdict::kInconclusive) {
      ++other_inconclusive;
      if (first_inconclusive == nullptr || weight(v) > weight(*first_inconclusive)) {
        first_inconclusive = &v;
      }
    }
  }
  r.score = w_decided > 0 ? 100 * w_pass / w_decided : 0;
  if (!r.integrity.empty()) {
    r.overall = Verdict::kFail;
    r.reason = "integrity: " + r.integrity.front();
  } else if (r.metrics.empty()) {
    r.overall = Verdict::kInconclusive;
    r.reason = "nothing to judge: baseline and candidate share no phase with data";
  } else if (worst_critical != nullptr) {
    r.overall = Verdict::kFail;
    r.reason = worst_critical->sentence;
  } else if (w_decided > 0 && r.score < cfg.fail_below_score) {
    r.overall = Verdict::kFail;
    r.reason = "score " + Fixed(r.score, 0) + " below " + Fixed(cfg.fail_below_score, 0) +
                 ": many non-critical metrics regressed";
  } else if (first_inconclusive != nullptr) {
    r.overall = Verdict::kInconclusive;
    r.reason = "the data cannot tell: " + first_inconclusive->sentence + "; " +
                 ExtendAdvice(*FindMetric(first_inconclusive->metric), *first_inconclusive, cfg);
    if (other_inconclusive > 0) {
      r.reason += " (" + std::to_string(other_inconclusive) + " other critical metric" +
                    (other_inconclusive > 1 ? "s" : "") + " cannot tell either)";
    }
  } else if (r.score < cfg.pass_score) {
    r.overall = Verdict::kInconclusive;
    r.reason = "score " + Fixed(r.score, 0) + " below " + Fixed(cfg.pass_score, 0) +
                 ": some non-critical metrics regressed";
  } else {
    r.overall = Verdict::kPass;
    r.reason = "every critical metric is within tolerance with " +
                 Fixed(cfg.confidence * 100, 0) + "% confidence (score " + Fixed(r.score, 0) +
                 ")";
  }
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
  CheckIntegrity(in.baseline, "baseline", &res);
  CheckIntegrity(in.candidate, "candidate", &res);
  CheckIntegrity(in.control, "control", &res);

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
  const StallFindings stalls = FindAllStalls(in, &res);
  PooledWindowStats stats(all_runs, &stalls.skips);
  PooledWindowStats raw(all_runs);

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
    const auto pooled = PoolControlVariance(phases, control, in.baseline, stats, cfg, &res.control_run_var);
    const NodeContext ctx{node, base, cand, control, in.baseline, stats, raw, stalls, pooled};
    for (const auto& phase : phases) {
      for (const auto& m : Metrics()) {
        if (m.events) continue;
        for (const auto& cls : ClassesOf(m)) {
          if (auto v = CompareMetric(m, phase, cls, ctx, cfg)) res.metrics.push_back(std::move(*v));
        }
      }
    }
    // Does the canary stall more often than every other window? Its own baseline, the other
    // nodes' baselines and the controls are the reference.
    std::vector<const Run*> reference;
    for (const auto& r : in.baseline) reference.push_back(&r);
    for (const auto& r : in.control) reference.push_back(&r);
    if (auto sv = StallVerdict(node, cand, reference, stalls.by_window, cfg)) res.metrics.push_back(*sv);
  }

  CombineComparisons(cfg, &res);
  OverallVerdict(cfg, &res);
  return res;
}

}  // namespace fwcanary::judge
