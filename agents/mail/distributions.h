#pragma once
// Samplers for what varies per message: its size and its recipient.
// Thread safety: samplers are immutable after construction; the caller owns the RNG.

#include <cstdint>
#include <random>
#include <vector>

#include "agents/spec/workload_spec.h"

namespace fwcanary {

// Message sizes: lognormal (default: a heavy right tail, as real mail has), gamma (filebench
// varmail's model) or fixed; always clamped to [min_bytes, max_bytes].
class SizeSampler {
 public:
  explicit SizeSampler(const SizeDistribution& d);
  uint64_t Sample(std::mt19937_64& rng) const;

 private:
  SizeDistribution d_;
  double mu_ = 0;  // lognormal: ln-space mean giving the requested arithmetic mean
};

// Mailbox popularity: P(user k) proportional to 1/(k+1)^s, k = 0..n-1 (s = 0: uniform).
class ZipfSampler {
 public:
  ZipfSampler(int n, double s);
  // u uniform in [0,1) -> user index.
  int Sample(double u) const;
  double Probability(int k) const;

 private:
  std::vector<double> cdf_;
};

// splitmix64: derives independent per-message seeds from (run seed, sequence number), so a
// message's size, user and body never depend on which thread handled it.
uint64_t SeedFor(uint64_t seed, uint64_t seq, uint64_t stream);

}  // namespace fwcanary
