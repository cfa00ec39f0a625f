#pragma once
// LeaseLock: a lock file on each node (rollout.lock_path) holding "<owner> <expiry>", so two
// controllers never work on the same nodes. Taken atomically with the shell's noclobber
// (O_EXCL) on the node; renewed every third of the TTL while the run lasts; a lease whose
// expiry has passed (its controller died and nobody resumed) may be taken over; released
// only by its owner. The owner is the run's id, kept in the journal, so `fwcanary resume`
// takes back its own leases. Expiry is judged by the node's clock, the one that holds the file.
//
// Thread safety: LeaseKeeper renews from its own thread with its own sessions.

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "harness/rollout/node_session.h"

namespace fwcanary::rollout {

// Refused "held by OWNER for N more s" when another live owner holds it.
Status AcquireLease(const scenario::Scenario& sc, NodeSession& s, const std::string& owner);
// Removes the file only when `owner` holds it.
Status ReleaseLease(const scenario::Scenario& sc, NodeSession& s, const std::string& owner);

class LeaseKeeper {
 public:
  // Renews the leases of `nodes` every lock_ttl_s / 3 until destroyed; failures go to `log`.
  // REQUIRES: the leases were just taken (AcquireLease) on every node.
  LeaseKeeper(const scenario::Scenario& sc, std::vector<const scenario::Node*> nodes,
              std::string owner, std::function<void(const std::string&)> log);
  ~LeaseKeeper();
  LeaseKeeper(const LeaseKeeper&) = delete;
  LeaseKeeper& operator=(const LeaseKeeper&) = delete;

  // OK while every node's lease is known to be held: renewed within the last two thirds of the
  // TTL, and no renewal found it held by another owner. Otherwise why not: no new flash may
  // start then (another controller could be taking the node).
  Status Held() const;

 private:
  using Clock = std::chrono::steady_clock;
  const double ttl_s_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::map<std::string, Clock::time_point> last_ok_;  // GUARDED_BY(mu_)
  Status lost_;                                       // GUARDED_BY(mu_)
  std::thread thread_;
};

}  // namespace fwcanary::rollout
