#include "agents/mail/distributions.h"

#include <algorithm>
#include <cmath>

namespace fwcanary {

SizeSampler::SizeSampler(const SizeDistribution& d) : d_(d) {
  // E[lognormal] = exp(mu + sigma^2/2)  =>  mu = ln(mean) - sigma^2/2.
  mu_ = std::log(d_.mean_bytes) - d_.sigma * d_.sigma / 2.0;
}

uint64_t SizeSampler::Sample(SplitMix64& rng) const {
  double v = d_.mean_bytes;
  if (d_.dist == "lognormal") {
    v = std::lognormal_distribution<double>(mu_, d_.sigma)(rng);
  } else if (d_.dist == "gamma") {
    v = std::gamma_distribution<double>(d_.shape, d_.mean_bytes / d_.shape)(rng);
  }
  v = std::clamp(v, static_cast<double>(d_.min_bytes), static_cast<double>(d_.max_bytes));
  return static_cast<uint64_t>(std::llround(v));
}

ZipfSampler::ZipfSampler(int n, double s) {
  cdf_.resize(static_cast<std::size_t>(std::max(n, 1)));
  double total = 0;
  for (std::size_t k = 0; k < cdf_.size(); ++k) {
    total += 1.0 / std::pow(static_cast<double>(k + 1), s);
    cdf_[k] = total;
  }
  for (double& c : cdf_) c /= total;
}

int ZipfSampler::Sample(double u) const {
  auto it = std::upper_bound(cdf_.begin(), cdf_.end(), u);
  if (it == cdf_.end()) --it;
  return static_cast<int>(it - cdf_.begin());
}

double ZipfSampler::Probability(int k) const {
  auto i = static_cast<std::size_t>(k);
  return i == 0 ? cdf_[0] : cdf_[i] - cdf_[i - 1];
}

uint64_t SeedFor(uint64_t seed, uint64_t seq, uint64_t stream) {
  uint64_t x = seed * 0x9E3779B97F4A7C15ull + seq * 0xD1B54A32D192ED03ull + stream;
  x ^= x >> 30;
  x *= 0xBF58476D1CE4E5B9ull;
  x ^= x >> 27;
  x *= 0x94D049BB133111EBull;
  x ^= x >> 31;
  return x;
}

}  // namespace fwcanary
