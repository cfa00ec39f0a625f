#include "agents/records/latency_histogram.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <limits>

#include <nlohmann/json.hpp>

#include "common/json_number.h"
#include "common/schema.h"

namespace fwcanary {
namespace {
const double kLogGamma = std::log(LatencyHistogram::kGamma);

// The definition of a value's bucket: ceil(log_gamma(v)) for 1 < v <= kMaxMicros.
int DefinedIndex(double micros) { return static_cast<int>(std::ceil(std::log(micros) / kLogGamma)); }

// IndexOf without a log per value (a log and a division were most of Record's time): an
// estimate from the exponent and the top 8 mantissa bits, never above the bucket and at most
// one below, is corrected by one compare with that bucket's largest value. Those edges are
// found with DefinedIndex itself, so every value keeps the bucket it had.
class BucketEdges {
 public:
  BucketEdges() {
    const int last = DefinedIndex(LatencyHistogram::kMaxMicros);
    upper_.resize(static_cast<std::size_t>(last) + 1);
    upper_[0] = 1.0;
    for (int i = 1; i < last; ++i) {
      double x = std::exp(i * kLogGamma);  // within a few ulps of the edge
      while (DefinedIndex(x) > i) x = std::nextafter(x, 0.0);
      while (DefinedIndex(std::nextafter(x, kInf)) <= i) x = std::nextafter(x, kInf);
      upper_[static_cast<std::size_t>(i)] = x;
    }
    upper_[static_cast<std::size_t>(last)] = LatencyHistogram::kMaxMicros;
    for (int k = 0; k < 256; ++k) log2_mantissa_[static_cast<std::size_t>(k)] = std::log2(1.0 + k / 256.0);
  }

  // REQUIRES: 1 < micros <= kMaxMicros.
  int IndexOf(double micros) const {
    const auto bits = std::bit_cast<uint64_t>(micros);
    const int exponent = static_cast<int>(bits >> 52) - 1023;
    const double log2_low = exponent + log2_mantissa_[(bits >> 44) & 0xff];
    // log2_low is at most 0.2 buckets below log2(micros), so floor + 1 of it (less a margin for
    // rounding) is the bucket or the one before it.
    int i = std::max(1, static_cast<int>(log2_low * buckets_per_octave_ - 1e-6) + 1);
    i += micros > upper_[static_cast<std::size_t>(i)];  // branch-free: either way is common
    while (micros > upper_[static_cast<std::size_t>(i)]) ++i;  // a net: never two short
    return i;
  }

 private:
  static constexpr double kInf = std::numeric_limits<double>::infinity();
  const double buckets_per_octave_ = std::log(2.0) / kLogGamma;
  std::vector<double> upper_;  // upper_[i]: the largest value in bucket i
  std::array<double, 256> log2_mantissa_{};
};

}  // namespace

int LatencyHistogram::IndexOf(double micros) {
  if (!(micros > 1.0)) return 0;  // also catches NaN
  micros = std::min(micros, kMaxMicros);
  static const BucketEdges edges;
  return edges.IndexOf(micros);
}

double LatencyHistogram::ValueOf(int index) {
  if (index <= 0) return 1.0;
  return 2.0 * std::exp(index * kLogGamma) / (kGamma + 1.0);
}

void LatencyHistogram::Record(double micros, uint64_t n) {
  if (n == 0) return;
  if (!(micros >= 0)) micros = 0;
  micros = std::min(micros, kMaxMicros);
  int i = IndexOf(micros);
  if (counts_.empty()) {
    first_ = i;
    counts_.assign(1, 0);
  } else if (i < first_) {
    counts_.insert(counts_.begin(), static_cast<std::size_t>(first_ - i), 0);
    first_ = i;
  } else if (i >= first_ + static_cast<int>(counts_.size())) {
    counts_.resize(static_cast<std::size_t>(i - first_ + 1), 0);
  }
  counts_[static_cast<std::size_t>(i - first_)] += n;
  if (count_ == 0) {
    min_ = max_ = micros;
  } else {
    min_ = std::min(min_, micros);
    max_ = std::max(max_, micros);
  }
  count_ += n;
  sum_ += micros * static_cast<double>(n);
}

void LatencyHistogram::Merge(const LatencyHistogram& o) {
  if (o.count_ == 0) return;
  if (count_ == 0) {
    *this = o;
    return;
  }
  int lo = std::min(first_, o.first_);
  int hi = std::max(first_ + static_cast<int>(counts_.size()),
                    o.first_ + static_cast<int>(o.counts_.size()));
  std::vector<uint64_t> merged(static_cast<std::size_t>(hi - lo), 0);
  for (std::size_t k = 0; k < counts_.size(); ++k) merged[k + (first_ - lo)] += counts_[k];
  for (std::size_t k = 0; k < o.counts_.size(); ++k) merged[k + (o.first_ - lo)] += o.counts_[k];
  counts_ = std::move(merged);
  first_ = lo;
  min_ = std::min(min_, o.min_);
  max_ = std::max(max_, o.max_);
  count_ += o.count_;
  sum_ += o.sum_;
}

void LatencyHistogram::Clear() { *this = LatencyHistogram(); }

double LatencyHistogram::Quantile(double q) const {
  if (count_ == 0) return 0.0;
  q = std::clamp(q, 0.0, 1.0);
  // Nearest rank: the smallest value with at least ceil(q*n) values at or below it.
  auto rank = static_cast<uint64_t>(std::ceil(q * static_cast<double>(count_)));
  rank = std::max<uint64_t>(rank, 1);
  uint64_t seen = 0;
  for (std::size_t k = 0; k < counts_.size(); ++k) {
    seen += counts_[k];
    if (seen >= rank) {
      return std::clamp(ValueOf(first_ + static_cast<int>(k)), min_, max_);
    }
  }
  return max_;
}

uint64_t LatencyHistogram::CountAbove(double micros) const {
  const int at = IndexOf(micros);
  uint64_t n = 0;
  for (std::size_t k = 0; k < counts_.size(); ++k) {
    if (first_ + static_cast<int>(k) > at) n += counts_[k];
  }
  return n;
}

nlohmann::json LatencyHistogram::ToJson() const {
  // Trim zero buckets at both ends (Merge and Record never leave any, FromJson might).
  std::size_t b = 0, e = counts_.size();
  while (b < e && counts_[b] == 0) ++b;
  while (e > b && counts_[e - 1] == 0) --e;
  nlohmann::json j;
  j["gamma"] = kGamma;
  j["first"] = first_ + static_cast<int>(b);
  j["counts"] = std::vector<uint64_t>(counts_.begin() + static_cast<std::ptrdiff_t>(b),
                                      counts_.begin() + static_cast<std::ptrdiff_t>(e));
  j["sum_us"] = sum_;
  j["min_us"] = min_micros();
  j["max_us"] = max_micros();
  return j;
}

Result<LatencyHistogram> LatencyHistogram::FromJson(const nlohmann::json& j) {
  try {
    if (std::abs(j.at("gamma").get<double>() - kGamma) > 1e-9) {
      return Status::InvalidArgument("histogram gamma " + DumpForMessage(j.at("gamma")) +
                                     " differs from 1.02; cannot merge");
    }
    LatencyHistogram h;
    // Buckets beyond kMaxMicros cannot come from Record: a corrupt or hostile record would
    // otherwise make the next Merge allocate billions of buckets.
    const int max_index = IndexOf(kMaxMicros);
    h.first_ = JsonIntIn(j.at("first"), 0, max_index);
    const nlohmann::json& counts = j.at("counts");
    if (!counts.is_array() || counts.size() > static_cast<std::size_t>(max_index - h.first_ + 1)) {
      return Status::InvalidArgument("histogram counts must be an array ending at bucket " +
                                     std::to_string(max_index) + " at most");
    }
    for (const auto& c : counts) h.counts_.push_back(JsonCount(c));
    for (uint64_t c : h.counts_) h.count_ += c;
    h.sum_ = j.value("sum_us", 0.0);
    h.min_ = j.value("min_us", ValueOf(h.first_));
    h.max_ = j.value("max_us", ValueOf(h.first_ + static_cast<int>(h.counts_.size()) - 1));
    return h;
  } catch (const nlohmann::json::exception& e) {
    return Status::InvalidArgument(std::string("histogram: ") + e.what());
  }
}

}  // namespace fwcanary
