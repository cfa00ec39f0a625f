#pragma once
// LatencyHistogram: a mergeable, log-bucketed latency histogram (the DDSketch layout).
//
// Bucket i holds values v (microseconds) with gamma^(i-1) < v <= gamma^i; bucket 0 holds
// everything at or below 1 us. A quantile is reported as the bucket's midpoint in relative
// terms, 2*gamma^i/(gamma+1), so every quantile is within (gamma-1)/(gamma+1) of a value that
// really occurred at that rank: 0.99% with the fixed gamma of 1.02. Values are capped at
// kMaxMicros (one day). Histograms with the same gamma merge by adding counts, which is what
// lets the judge combine intervals, nodes and runs without losing tail accuracy.
//
// Serialized form (agents/README.md): {"gamma":1.02,"first":I,"counts":[c_I, c_I+1, ...]}.
//
// Thread safety: none; each writer owns its histogram (the engines guard theirs with a mutex).

#include <cstdint>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "common/status.h"

namespace fwcanary {

class LatencyHistogram {
 public:
  static constexpr double kGamma = 1.02;
  static constexpr double kMaxMicros = 86400.0 * 1e6;

  void Record(double micros, uint64_t n = 1);
  void Merge(const LatencyHistogram& other);
  void Clear();

  uint64_t count() const { return count_; }
  double sum_micros() const { return sum_; }
  double min_micros() const { return count_ ? min_ : 0.0; }
  double max_micros() const { return count_ ? max_ : 0.0; }
  double mean_micros() const { return count_ ? sum_ / static_cast<double>(count_) : 0.0; }
  // Nearest-rank quantile, q in [0,1]; 0 when empty. Clamped to the exact min and max.
  double Quantile(double q) const;
  // Values above the bucket `micros` falls in (within the bucket's relative error of "> micros").
  uint64_t CountAbove(double micros) const;

  nlohmann::json ToJson() const;
  // REQUIRES: j came from ToJson() (gamma must match kGamma).
  static Result<LatencyHistogram> FromJson(const nlohmann::json& j);

  // Bucket index for a value, and the representative value of a bucket (for tests and fio).
  static int IndexOf(double micros);
  static double ValueOf(int index);

 private:
  int first_ = 0;                // index of counts_[0]
  std::vector<uint64_t> counts_;  // dense over [first_, first_ + size)
  uint64_t count_ = 0;
  double sum_ = 0, min_ = 0, max_ = 0;
};

}  // namespace fwcanary
