#pragma once
// Samplers for what varies per message: its size and its recipient.
// Thread safety: samplers are immutable after construction; the caller owns the RNG.

#include <cstdint>
#include <random>
#include <vector>

#include "agents/spec/workload_spec.h"

namespace fwcanary {

// A small, fast generator (splitmix64) for per-message draws: seeding std::mt19937_64 for
// every message cost more than the message's checksum. Satisfies UniformRandomBitGenerator.
class SplitMix64 {
 public:
  using result_type = uint64_t;
  explicit SplitMix64(uint64_t seed) : s_(seed) {}
  static constexpr result_type min() { return 0; }
  static constexpr result_type max() { return ~result_type{0}; }
  result_type operator()() {
    uint64_t z = (s_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }

 private:
  uint64_t s_;
};

// Message sizes: lognormal (default: a heavy right tail, as real mail has), gamma (filebench
// varmail's model) or fixed; always clamped to [min_bytes, max_bytes].
class SizeSampler {
 public:
  explicit SizeSampler(const SizeDistribution& d);
  uint64_t Sample(SplitMix64& rng) const;

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
