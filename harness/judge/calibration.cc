#include "harness/judge/calibration.h"

#include <cmath>
#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>

#include "harness/judge/stats.h"
#include "harness/judge/window_stat.h"

namespace fwcanary::judge {
namespace {

std::string Pct(const MetricDef& m, double x) {
  char buf[32];
  if (m.scale == Scale::kAbsolute) {
    std::snprintf(buf, sizeof buf, "%.2fpp", x * 100);
  } else {
    std::snprintf(buf, sizeof buf, "%.1f%%", std::expm1(x) * 100);
  }
  return buf;
}

}  // namespace

Calibration Calibrate(const std::vector<Run>& runs, const JudgeConfig& cfg) {
  Calibration out;
  std::set<std::string> nodes;
  std::vector<const Run*> all;
  for (const auto& r : runs) {
    nodes.insert(r.node);
    all.push_back(&r);
  }
  PooledWindowStats stats(all);  // measured as the judge measures them
  for (const auto& node : nodes) {
    std::vector<std::string> phases;
    for (const auto& r : runs) {
      if (r.node != node) continue;
      for (const auto& w : r.windows) {
        if (std::find(phases.begin(), phases.end(), w.phase) == phases.end()) {
          phases.push_back(w.phase);
        }
      }
    }
    for (const auto& phase : phases) {
      for (const auto& m : Metrics()) {
        if (m.events) continue;
        std::vector<std::string> classes =
            m.per_class ? std::vector<std::string>{"deliver", "retrieve", "scan"}
                        : std::vector<std::string>{""};
        for (const auto& cls : classes) {
          std::vector<double> values, within;
          for (const auto& r : runs) {
            if (r.node != node) continue;
            const Window* w = r.FindWindow(phase);
            auto s = w ? stats.Measure(m, *w, cls) : std::nullopt;
            if (!s) continue;
            values.push_back(s->value);
            if (s->within_var >= 0) within.push_back(s->within_var);
          }
          if (values.size() < 2) continue;
          NoiseRow row;
          row.node = node;
          row.phase = phase;
          row.cls = cls;
          row.metric = m.name;
          row.runs = static_cast<int>(values.size());
          double s2 = Variance(values);
          double w = within.empty() ? 0 : Mean(within);
          row.run_sd = std::sqrt(s2);
          row.within_sd = std::sqrt(w);
          row.run_noise = std::sqrt(std::max(0.0, 2 * (s2 - w)));
          double df = static_cast<double>(values.size() - 1);
          // One run against one run: the difference has variance 2 s^2.
          row.detectable = (StudentQuantile(1 - cfg.alpha, df) + StudentQuantile(0.8, df)) *
                           std::sqrt(2 * s2);
          auto tol = cfg.tolerances.find(m.name);
          row.tolerance = ToleranceOnScale(m, tol != cfg.tolerances.end() ? tol->second
                                                                          : m.tolerance);
          row.too_tight = row.detectable > row.tolerance;
          double& rn = out.run_noise[m.name];
          rn = std::max(rn, row.run_noise);
          out.rows.push_back(row);
        }
      }
    }
  }
  return out;
}

std::map<std::string, double> RunNoiseFromPairs(
    const std::vector<std::pair<const Run*, const Run*>>& pairs) {
  std::map<std::string, double> out;
  std::vector<const Run*> all;
  for (const auto& [before, after] : pairs) {
    all.push_back(before);
    all.push_back(after);
  }
  PooledWindowStats stats(all);
  for (const auto& m : Metrics()) {
    if (m.events) continue;
    double sum = 0;
    int n = 0;
    std::vector<std::string> classes = m.per_class ? std::vector<std::string>{"deliver", "retrieve"}
                                                   : std::vector<std::string>{""};
    for (const auto& [before, after] : pairs) {
      for (const auto& w : before->windows) {
        const Window* later = after->FindWindow(w.phase);
        if (later == nullptr) continue;
        for (const auto& cls : classes) {
          auto a = stats.Measure(m, w, cls);
          auto b = stats.Measure(m, *later, cls);
          if (!a || !b) continue;
          double df = 0;
          double within = std::max(PairedWithinVar(*a, *b, &df), 0.0);
          double d = b->value - a->value;
          sum += std::max(0.0, d * d - within);
          ++n;
        }
      }
    }
    if (n > 0) out[m.name] = std::sqrt(sum / n);
  }
  return out;
}

nlohmann::json CalibrationToJson(const Calibration& c) {
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& r : c.rows) {
    rows.push_back({{"node", r.node}, {"phase", r.phase}, {"class", r.cls},
                    {"metric", r.metric}, {"runs", r.runs}, {"run_sd", r.run_sd},
                    {"within_sd", r.within_sd}, {"run_noise", r.run_noise},
                    {"detectable", r.detectable}, {"tolerance", r.tolerance},
                    {"too_tight", r.too_tight}});
  }
  return {{"calibration_version", 1}, {"run_noise", c.run_noise}, {"rows", rows}};
}

std::string RenderCalibration(const Calibration& c) {
  std::string out;
  char line[256];
  std::snprintf(line, sizeof line, "%-8s %-9s %-21s %5s %9s %9s %11s %9s\n", "NODE", "PHASE",
                "METRIC", "RUNS", "RUN SD", "WITHIN", "DETECTABLE", "TOL");
  out += line;
  int warnings = 0;
  for (const auto& r : c.rows) {
    const MetricDef& m = *FindMetric(r.metric);
    std::string metric = (r.cls.empty() ? "" : r.cls + " ") + r.metric;
    std::snprintf(line, sizeof line, "%-8s %-9s %-21s %5d %9s %9s %11s %9s%s\n", r.node.c_str(),
                  r.phase.c_str(), metric.c_str(), r.runs, Pct(m, r.run_sd).c_str(),
                  Pct(m, r.within_sd).c_str(), Pct(m, r.detectable).c_str(),
                  Pct(m, r.tolerance).c_str(), r.too_tight ? "  << tolerance below noise" : "");
    out += line;
    warnings += r.too_tight ? 1 : 0;
  }
  if (warnings > 0) {
    out += "\nwarning: " + std::to_string(warnings) +
           " metric(s) cannot be judged at the tolerance asked with one run per side at this "
           "window length: lengthen the phases, repeat runs, add control nodes, or loosen the "
           "tolerance.\n";
  }
  return out;
}

Status LoadNoise(const std::string& path, JudgeConfig* cfg) {
  std::ifstream in(path);
  if (!in) return Status::NotFound(path + ": cannot open");
  try {
    nlohmann::json j = nlohmann::json::parse(in);
    if (!j.is_object() || (!j.contains("run_noise") && !j.contains("control_run_var"))) {
      return Status::InvalidArgument(
          path + ": neither run_noise (`fwcanary calibrate --out`) nor control_run_var (a "
                 "judgment: `fwcanary compare --json`, a run's verdict-*.json)");
    }
    if (j.contains("run_noise")) {
      for (const auto& [metric, v] : j.at("run_noise").items()) {
        if (FindMetric(metric) == nullptr) {
          return Status::InvalidArgument(path + ": run_noise: unknown metric '" + metric + "'");
        }
        cfg->run_noise[metric] = v.get<double>();
      }
    }
    if (j.contains("control_run_var")) {
      for (const auto& [metric, v] : j.at("control_run_var").items()) {
        if (FindMetric(metric) == nullptr) {
          return Status::InvalidArgument(path + ": control_run_var: unknown metric '" + metric +
                                         "'");
        }
        RunVariance add;
        add.var = v.at("var").get<double>();
        add.df = v.at("df").get<double>();
        if (!(add.var >= 0) || !(add.df > 0) || !std::isfinite(add.var) || !std::isfinite(add.df)) {
          return Status::InvalidArgument(path + ": control_run_var: " + metric +
                                         ": var must be >= 0 and df > 0");
        }
        RunVariance had;
        if (auto it = cfg->control_run_var.find(metric); it != cfg->control_run_var.end()) {
          had.var = it->second.first;
          had.df = it->second.second;
        }
        RunVariance both = CombineRunVariance(had, add);
        cfg->control_run_var[metric] = {both.var, both.df};
      }
    }
  } catch (const nlohmann::json::exception& e) {
    return Status::InvalidArgument(path + ": not a calibration or judgment file: " + e.what());
  }
  return Status::Ok();
}

}  // namespace fwcanary::judge
