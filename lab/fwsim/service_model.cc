#include "lab/fwsim/service_model.h"

#include <algorithm>

#include <thread>

namespace fwcanary::lab {

void ServiceModel::Ticket::Finish() {
  if (m_ == nullptr) return;
  if (slot_) std::this_thread::sleep_until(done_);
  m_->Leave(slot_);
  m_ = nullptr;
}

double ServiceModel::ServiceUs(const FirmwareProfile& p, FsOp op, uint64_t bytes, double rate, double fill) {
  double service_us = p.base_us[static_cast<std::size_t>(op)];
  const double kib = static_cast<double>(bytes) / 1024.0;
  if (op == FsOp::kRead) service_us += kib * p.read_us_per_kib;
  if (op == FsOp::kWrite) service_us += kib * p.write_us_per_kib;
  const bool knee_applies = p.knee_only < 0 || p.knee_only == static_cast<int>(op);
  if (p.knee_ops_per_s > 0 && rate > p.knee_ops_per_s && knee_applies) {
    service_us *= 1.0 + p.knee_slowdown * (rate - p.knee_ops_per_s) / p.knee_ops_per_s;
  }
  if (p.fill_slowdown > 0 && fill > p.fill_start) {
    service_us *= 1.0 + p.fill_slowdown * (std::min(fill, 1.0) - p.fill_start) / (1.0 - p.fill_start);
  }
  return service_us;
}

ServiceModel::Ticket ServiceModel::Begin(FsOp op, uint64_t bytes) {
  std::unique_lock lock(mu_);
  ++waiting_;
  cv_.wait(lock, [&] { return !held_ && busy_ < profile_.service_slots; });
  --waiting_;
  ++busy_;
  ++inside_;
  Clock::time_point now = Clock::now();
  double fill = 0;
  if (space_ != nullptr && space_->capacity() > 0) {
    fill = static_cast<double>(space_->used_bytes()) / static_cast<double>(space_->capacity());
  }
  const double service_us = ServiceUs(profile_, op, bytes, RecentRateLocked(now), fill);
  auto done = now + std::chrono::microseconds(static_cast<int64_t>(service_us));
  return Ticket(this, true, done);
}

ServiceModel::Ticket ServiceModel::BeginFree() {
  std::unique_lock lock(mu_);
  ++waiting_;
  cv_.wait(lock, [&] { return !held_; });
  --waiting_;
  ++inside_;
  return Ticket(this, false, Clock::time_point());
}

void ServiceModel::Leave(bool slot) {
  std::lock_guard lock(mu_);
  if (slot) --busy_;
  --inside_;
  cv_.notify_all();
}

void ServiceModel::Hold() {
  std::unique_lock lock(mu_);
  held_ = true;
  cv_.wait(lock, [&] { return inside_ == 0; });
}

void ServiceModel::Release() {
  std::lock_guard lock(mu_);
  held_ = false;
  cv_.notify_all();
}

bool ServiceModel::held() const {
  std::lock_guard lock(mu_);
  return held_;
}

void ServiceModel::SetProfile(const FirmwareProfile& profile) {
  std::lock_guard lock(mu_);
  profile_ = profile;
  cv_.notify_all();  // more slots may have opened
}

double ServiceModel::RecentRateLocked(Clock::time_point now) {
  int64_t epoch =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() / 100;
  int i = static_cast<int>(epoch % kBuckets);
  if (bucket_epoch_[i] != epoch) {
    bucket_epoch_[i] = epoch;
    bucket_count_[i] = 0;
  }
  ++bucket_count_[i];
  uint64_t total = 0;
  for (int b = 0; b < kBuckets; ++b) {
    if (epoch - bucket_epoch_[b] < kBuckets) total += bucket_count_[b];
  }
  return static_cast<double>(total);  // ops in the last 10 buckets = last second
}

double ServiceModel::RecentOpsPerSecond() {
  std::lock_guard lock(mu_);
  Clock::time_point now = Clock::now();
  int64_t epoch =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() / 100;
  uint64_t total = 0;
  for (int b = 0; b < kBuckets; ++b) {
    if (epoch - bucket_epoch_[b] < kBuckets) total += bucket_count_[b];
  }
  return static_cast<double>(total);
}

int ServiceModel::waiting() const {
  std::lock_guard lock(mu_);
  return waiting_;
}

}  // namespace fwcanary::lab
