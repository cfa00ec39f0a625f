#include "tests/unit/judge_synthetic.h"

#include <cmath>
#include <limits>
#include <map>
#include <mutex>

#include "harness/judge/stats.h"

namespace fwcanary::judge::testing {

namespace {

// exp(sigma * z) at the 65,536 midpoint quantiles of the standard normal.
const std::vector<double>& LognormalTable(double sigma) {
  static std::mutex mu;
  static std::map<double, std::vector<double>> tables;
  std::lock_guard<std::mutex> lock(mu);
  auto& t = tables[sigma];
  if (t.empty()) {
    t.resize(65536);
    for (std::size_t i = 0; i < t.size(); ++i) {
      double p = (static_cast<double>(i) + 0.5) / static_cast<double>(t.size());
      t[i] = std::exp(sigma * StudentQuantile(p, std::numeric_limits<double>::infinity()));
    }
  }
  return t;
}

}  // namespace

SyntheticNoise ScenarioShape(int steady_s, int surge_s) {
  SyntheticNoise n;
  n.ops_per_s = 300;
  n.classes = {{"deliver", 0.45, 2000}, {"retrieve", 0.40, 800}, {"scan", 0.15, 300}};
  n.phases = {{"steady", steady_s, 1, 1}, {"surge", surge_s, 3, 1.5}};
  n.table_ops = true;
  return n;
}

Run SyntheticRun(const std::string& node, double node_offset, double time_offset,
                 double latency_shift,
                 double throughput_shift, const SyntheticNoise& n, std::mt19937_64& rng) {
  std::normal_distribution<double> z(0, 1);
  const double innov = std::sqrt(1 - n.rho * n.rho);
  std::vector<SyntheticClass> classes = n.classes;
  if (classes.empty()) classes.push_back({"deliver", 1, n.base_us});
  std::vector<SyntheticPhase> phases = n.phases;
  if (phases.empty()) phases.push_back({"steady", n.intervals, 1, 1});
  // Each class has its own level processes and window offset (they are different files and
  // code paths on the storage); the node's and the time window's offsets are shared.
  struct Level {
    double lat, tp, run_off;
  };
  std::vector<Level> level;
  for (std::size_t c = 0; c < classes.size(); ++c) {
    Level l{};
    l.lat = n.latent_sd * z(rng);
    l.tp = n.tp_latent_sd * z(rng);
    l.run_off = n.run_sd * z(rng);
    level.push_back(l);
  }
  const std::vector<double>* table = n.table_ops ? &LognormalTable(n.op_sigma) : nullptr;
  Run run;
  run.id = "synthetic";
  run.node = node;
  run.has_summary = true;
  int t = 0;
  for (const auto& ph : phases) {
    Window w{ph.name, {}, false, std::nullopt};
    for (int i = 0; i < ph.intervals; ++i) {
      IntervalRecord r;
      r.node = node;
      r.phase = ph.name;
      r.t = ++t;
      r.dt = 1;
      double achieved = 0;
      for (std::size_t c = 0; c < classes.size(); ++c) {
        Level& l = level[c];
        const double mu = std::log(classes[c].base_us * ph.latency_x) + node_offset +
                          time_offset + l.run_off + std::log1p(latency_shift);
        l.lat = n.rho * l.lat + innov * n.latent_sd * z(rng);
        l.tp = n.rho * l.tp + innov * n.tp_latent_sd * z(rng);
        double mean_ops = n.ops_per_s * classes[c].share * ph.rate_x *
                          std::exp(l.tp - time_offset / 2) * (1 + throughput_shift);
        std::poisson_distribution<int> ops(mean_ops);
        OpStats& d = r.ops[classes[c].name];
        d.count = static_cast<uint64_t>(ops(rng));
        if (table != nullptr) {
          const double median = std::exp(mu + l.lat);
          for (uint64_t k = 0; k < d.count; ++k) d.hist.Record(median * (*table)[rng() >> 48]);
        } else {
          for (uint64_t k = 0; k < d.count; ++k) {
            d.hist.Record(std::exp(mu + l.lat + n.op_sigma * z(rng)));
          }
        }
        achieved += static_cast<double>(d.count);
      }
      r.achieved_rate = achieved;
      w.intervals.push_back(std::move(r));
    }
    run.windows.push_back(std::move(w));
  }
  return run;
}

CanaryCase SyntheticCanary(int controls, double latency_shift, double throughput_shift,
                           const SyntheticNoise& n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> z(0, 1);
  CanaryCase c;
  const double t_base = n.time_sd * z(rng), t_cand = n.time_sd * z(rng);
  for (int i = 0; i <= controls; ++i) {
    std::string node = "node-" + std::to_string(i + 1);
    double offset = n.node_sd * z(rng);
    c.baseline.push_back(SyntheticRun(node, offset, t_base, 0, 0, n, rng));
    if (i == 0) {
      c.candidate.push_back(
          SyntheticRun(node, offset, t_cand, latency_shift, throughput_shift, n, rng));
    } else {
      c.control.push_back(SyntheticRun(node, offset, t_cand, 0, 0, n, rng));
    }
  }
  return c;
}

}  // namespace fwcanary::judge::testing
