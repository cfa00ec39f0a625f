#include "tests/unit/judge_host_model.h"

#include <cmath>
#include <limits>
#include <random>

#include "harness/judge/stats.h"

namespace fwcanary::judge::testing {
namespace {

struct ClassShape {
  const char* name;
  double share;
  double base_us;
};
constexpr ClassShape kClasses[] = {{"deliver", 0.45, 2000}, {"retrieve", 0.40, 800},
                                   {"scan", 0.15, 300}};
constexpr double kTailShare = 0.05;

// exp(sigma z) * scale at 65,536 equally likely normal quantiles: one random word per operation.
std::vector<double> Table(double sigma, double scale) {
  std::vector<double> t(65536);
  for (std::size_t i = 0; i < t.size(); ++i) {
    double p = (static_cast<double>(i) + 0.5) / static_cast<double>(t.size());
    t[i] = scale * std::exp(sigma * StudentQuantile(p, std::numeric_limits<double>::infinity()));
  }
  return t;
}
const std::vector<double>& Body() {
  static const std::vector<double> t = Table(0.35, 1);
  return t;
}
const std::vector<double>& Tail() {
  static const std::vector<double> t = Table(0.5, 5);
  return t;
}

struct Stall {
  std::string phase;
  double at, dur;
};

struct RunSpec {
  std::string node;
  bool candidate = false;
  double node_offset = 0, time_offset = 0;
  const HostEffect* effect = nullptr;  // the canary's candidate only
  std::vector<Stall> stalls;
};

bool Applies(const HostEffect* e, const std::string& cls, const std::string& phase) {
  return e != nullptr && (e->cls.empty() || e->cls == cls) &&
         (e->phase.empty() || e->phase == phase);
}

Run Generate(const RunSpec& spec, const HostModel& m, std::mt19937_64& storage,
             uint64_t workload_seed) {
  std::normal_distribution<double> z(0, 1);
  std::uniform_real_distribution<double> u(0, 1);
  const double innov = std::sqrt(1 - m.rho * m.rho);
  const double host_off = m.host_run_sd * z(storage);
  double class_off[3], class_ar[3];
  for (int c = 0; c < 3; ++c) {
    class_off[c] = m.class_run_sd * z(storage);
    class_ar[c] = m.class_ar_sd * z(storage);
  }
  double host_ar = m.host_ar_sd * z(storage);
  std::vector<Stall> stalls = spec.stalls;
  struct PhaseShape {
    const char* name;
    int seconds;
    double rate_x, latency_x;
  };
  const PhaseShape phases[] = {{"steady", m.steady_s, 1, 1},
                               {"surge", m.surge_s, m.surge_rate_x, m.surge_latency_x}};
  for (const auto& ph : phases) {
    if (ph.seconds < 20) continue;
    int n = 0;
    if (m.random_stalls) {
      double r = u(storage);
      n = r < 0.4 ? 0 : r < 0.8 ? 1 : 2;
    }
    if (spec.effect != nullptr && (spec.effect->phase.empty() || spec.effect->phase == ph.name)) {
      n += spec.effect->stalls_per_window;
    }
    for (int i = 0; i < n; ++i) {
      stalls.push_back({ph.name, 5 + u(storage) * (ph.seconds - 10), 1 + u(storage)});
    }
  }
  Run run;
  run.id = "host-model";
  run.node = spec.node;
  run.has_summary = true;
  double t = 0;
  int phase_index = 0;
  for (const auto& ph : phases) {
    ++phase_index;
    if (ph.seconds <= 0) continue;
    std::mt19937_64 work(m.same_arrivals ? workload_seed * 31 + static_cast<uint64_t>(phase_index)
                                         : storage());
    Window w{ph.name, {}, false, std::nullopt};
    for (int i = 0; i < ph.seconds; ++i) {
      IntervalRecord r;
      r.node = spec.node;
      r.phase = ph.name;
      r.t = t + i + 1;
      r.dt = 1;
      r.intended_rate = m.ops_per_s * ph.rate_x;
      host_ar = m.rho * host_ar + innov * m.host_ar_sd * z(storage);
      double total = 0;
      for (int c = 0; c < 3; ++c) {
        class_ar[c] = m.rho * class_ar[c] + innov * m.class_ar_sd * z(storage);
        const std::string cls = kClasses[c].name;
        const bool hit = Applies(spec.effect, cls, ph.name);
        double level = kClasses[c].base_us * ph.latency_x *
                       std::exp(spec.node_offset + spec.time_offset + host_off + class_off[c] +
                                host_ar + class_ar[c]);
        if (hit) level *= spec.effect->body_x;
        const double tail_x = hit ? spec.effect->tail_x : 1;
        const double keep = hit ? spec.effect->rate_x : 1;
        std::poisson_distribution<int> count(m.ops_per_s * kClasses[c].share * ph.rate_x);
        const int arrivals = count(work);
        OpStats& d = r.ops[cls];
        for (int k = 0; k < arrivals; ++k) {
          const uint64_t word = work();
          const double at = i + static_cast<double>(word & 0xFFFFF) / 1048576.0;
          const bool tail = static_cast<double>((word >> 20) & 0xFFFF) < kTailShare * 65536;
          double lat = level * (tail ? Tail()[word >> 48] * tail_x : Body()[word >> 48]);
          if (keep < 1 && u(storage) >= keep) continue;
          for (const auto& s : stalls) {
            if (s.phase == ph.name && at >= s.at && at < s.at + s.dur) lat *= m.stall_x;
          }
          ++d.count;
          d.hist.Record(lat);
        }
        total += static_cast<double>(d.count);
      }
      r.offered_rate = r.intended_rate;
      r.achieved_rate = total;
      w.intervals.push_back(std::move(r));
    }
    t += ph.seconds;
    run.windows.push_back(std::move(w));
  }
  return run;
}

}  // namespace

HostCase HostModelCanary(int controls, const HostModel& m, const HostEffect& effect,
                         const std::vector<PlacedStall>& placed, uint64_t seed) {
  std::mt19937_64 storage(seed ^ 0x9e3779b97f4a7c15ULL);
  std::normal_distribution<double> z(0, 1);
  const uint64_t workload_seed = seed;
  const double t_base = m.time_sd * z(storage), t_cand = m.time_sd * z(storage);
  HostCase out;
  for (int i = 0; i <= controls; ++i) {
    const double node_offset = m.node_sd * z(storage);
    for (bool cand : {false, true}) {
      RunSpec spec;
      spec.node = "node-" + std::to_string(i + 1);
      spec.candidate = cand;
      spec.node_offset = node_offset;
      spec.time_offset = cand ? t_cand : t_base;
      if (i == 0 && cand) spec.effect = &effect;
      for (const auto& p : placed) {
        if (p.node == i && p.candidate == cand) spec.stalls.push_back({p.phase, p.at_s, p.dur_s});
      }
      Run r = Generate(spec, m, storage, workload_seed);
      if (!cand) {
        out.baseline.push_back(std::move(r));
      } else if (i == 0) {
        out.candidate.push_back(std::move(r));
      } else {
        out.control.push_back(std::move(r));
      }
    }
  }
  return out;
}

}  // namespace fwcanary::judge::testing
