#include "agents/mail/arrival_schedule.h"

namespace fwcanary {

const char* OpClassName(OpClass op) {
  switch (op) {
    case OpClass::kDeliver: return "deliver";
    case OpClass::kRetrieve: return "retrieve";
    case OpClass::kScan: return "scan";
  }
  return "?";
}

OpClass PickClass(const OperationMix& mix, double u) {
  double total = mix.deliver + mix.retrieve + mix.scan;
  double x = u * total;
  if (x < mix.deliver) return OpClass::kDeliver;
  if (x < mix.deliver + mix.retrieve || mix.scan <= 0) return OpClass::kRetrieve;
  return OpClass::kScan;
}

ArrivalSchedule::ArrivalSchedule(double rate, const OperationMix& mix, uint64_t seed,
                                 bool poisson)
    : rate_(rate), poisson_(poisson), mix_(mix), rng_(seed) {}

ArrivalSchedule::Arrival ArrivalSchedule::Next() {
  if (rate_ <= 0) return {std::numeric_limits<double>::infinity(), OpClass::kDeliver};
  if (poisson_) {
    t_ += std::exponential_distribution<double>(rate_)(rng_);
  } else {
    t_ = static_cast<double>(n_++) / rate_;  // the first at 0: [0, T) holds rate x T
  }
  double u = std::uniform_real_distribution<double>(0.0, 1.0)(rng_);
  return {t_, PickClass(mix_, u)};
}

}  // namespace fwcanary
