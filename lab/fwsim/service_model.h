#pragma once
// ServiceModel: how long the simulated node takes to serve one operation, and when it serves.
//
// Every filesystem request passes through here:
//   * Gate: while the node flashes (non-disruptive upgrade), requests wait, they do not fail.
//     Hold() returns once in-flight requests have finished, so the profile can be swapped.
//   * Slots: the profile's service_slots requests are served at once; the rest queue. This is
//     what makes latency grow with load and collapse once arrivals outpace service.
//   * Service time: base + per-KiB cost, times a load factor once the modelled op rate over the
//     last second passes the profile's knee: 1 + slowdown * (rate - knee) / knee; and times a
//     fill factor once the node's space in use passes the fill knee:
//     1 + fill_slowdown * (fill - start) / (1 - start).
// The real syscall runs inside the service time; Finish() sleeps for whatever is left, so an op
// takes max(real, modelled).
//
// Thread safety: all methods are safe to call from FUSE worker threads concurrently.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <atomic>
#include <mutex>

#include "lab/fwsim/firmware_profile.h"
#include "lab/fwsim/space_accounting.h"

namespace fwcanary::lab {

class ServiceModel {
 public:
  using Clock = std::chrono::steady_clock;

  explicit ServiceModel(const FirmwareProfile& profile) { SetProfile(profile); }

  // A request in service: holds a slot (when modelled) until Finish() or destruction.
  class Ticket {
   public:
    Ticket(ServiceModel* m, bool slot, Clock::time_point done) : m_(m), slot_(slot), done_(done) {}
    Ticket(Ticket&& o) noexcept : m_(o.m_), slot_(o.slot_), done_(o.done_) { o.m_ = nullptr; }
    Ticket(const Ticket&) = delete;
    Ticket& operator=(const Ticket&) = delete;
    Ticket& operator=(Ticket&&) = delete;
    ~Ticket() { Finish(); }
    // Sleeps until the modelled service time has passed, then frees the slot. Idempotent.
    void Finish();

   private:
    ServiceModel* m_;
    bool slot_;
    Clock::time_point done_;
  };

  // Waits for the gate and a slot, then starts serving `op` of `bytes`.
  Ticket Begin(FsOp op, uint64_t bytes);
  // The service time of `op` moving `bytes` at `rate` modelled ops/s (the knee's input): the
  // profile's base and per-KiB costs, slowed past the knee (only for the knee's operation
  // when it names one). Pure; Begin uses it.
  // `fill`: the share of the node's capacity in use (the fill knee's input; 0 when unknown).
  static double ServiceUs(const FirmwareProfile& p, FsOp op, uint64_t bytes, double rate, double fill = 0);
  // Where the fill knee reads the node's space use: the share of its capacity in use.
  void SetFillSource(const SpaceAccounting* space) { space_ = space; }
  // Waits for the gate only: metadata requests that cost nothing but must stall during a flash.
  Ticket BeginFree();

  // Closes the gate and waits until no request is in service. REQUIRES: not already held.
  void Hold();
  // Opens the gate.
  void Release();
  bool held() const;
  // Operations whose bit (1 << FsOp) is set fail with EIO at once (an upgrade throwing errors).
  void SetFailing(uint32_t mask) { failing_.store(mask); }
  bool Fails(FsOp op) const { return (failing_.load() >> static_cast<uint32_t>(op)) & 1U; }

  // Swaps the profile; takes effect for requests that begin afterwards.
  void SetProfile(const FirmwareProfile& profile);

  // Modelled ops that began in the last second (the knee's input), and requests waiting.
  double RecentOpsPerSecond();
  int waiting() const;

 private:
  std::atomic<uint32_t> failing_{0};
  const SpaceAccounting* space_ = nullptr;
  void Leave(bool slot);
  double RecentRateLocked(Clock::time_point now);

  mutable std::mutex mu_;
  std::condition_variable cv_;
  FirmwareProfile profile_;  // GUARDED_BY(mu_)
  bool held_ = false;        // GUARDED_BY(mu_)
  int busy_ = 0;             // requests holding a slot; GUARDED_BY(mu_)
  int inside_ = 0;           // requests past the gate; GUARDED_BY(mu_)
  int waiting_ = 0;          // GUARDED_BY(mu_)
  // Arrivals per 100 ms bucket over the last second (ring), for the knee.
  static constexpr int kBuckets = 10;
  int64_t bucket_epoch_[kBuckets] = {};  // GUARDED_BY(mu_)
  uint64_t bucket_count_[kBuckets] = {};  // GUARDED_BY(mu_)
};

}  // namespace fwcanary::lab
