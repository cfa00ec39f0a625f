#include "tests/unit/judge_synthetic.h"

#include <cmath>

namespace fwcanary::judge::testing {

Run SyntheticRun(const std::string& node, double node_offset, double time_offset,
                 double latency_shift,
                 double throughput_shift, const SyntheticNoise& n, std::mt19937_64& rng) {
  std::normal_distribution<double> z(0, 1);
  const double innov = std::sqrt(1 - n.rho * n.rho);
  double lat = n.latent_sd * z(rng), tp = n.tp_latent_sd * z(rng);
  const double run_off = n.run_sd * z(rng);
  Run run;
  run.id = "synthetic";
  run.node = node;
  run.has_summary = true;
  Window w{"steady", {}, false, std::nullopt};
  const double mu =
      std::log(n.base_us) + node_offset + time_offset + run_off + std::log1p(latency_shift);
  for (int i = 0; i < n.intervals; ++i) {
    lat = n.rho * lat + innov * n.latent_sd * z(rng);
    tp = n.rho * tp + innov * n.tp_latent_sd * z(rng);
    double mean_ops = n.ops_per_s * std::exp(tp - time_offset / 2) * (1 + throughput_shift);
    std::poisson_distribution<int> ops(mean_ops);
    IntervalRecord r;
    r.node = node;
    r.phase = "steady";
    r.t = i + 1;
    r.dt = 1;
    OpStats& d = r.ops["deliver"];
    d.count = static_cast<uint64_t>(ops(rng));
    for (uint64_t k = 0; k < d.count; ++k) d.hist.Record(std::exp(mu + lat + n.op_sigma * z(rng)));
    r.achieved_rate = static_cast<double>(d.count);
    w.intervals.push_back(std::move(r));
  }
  run.windows.push_back(std::move(w));
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
