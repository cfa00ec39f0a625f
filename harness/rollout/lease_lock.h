#pragma once
// LeaseLock: a lock file on each node (rollout.lock_path) holding "<owner> <expiry>", so two
// controllers never work on the same nodes. Taken atomically with the shell's noclobber
// (O_EXCL) on the node; renewed every third of the TTL while the run lasts; a lease whose
// expiry has passed (its controller died and nobody resumed) may be taken over; released
// only by its owner. The owner is the run's id, kept in the journal, so `fwcanary resume`
// takes back its own leases. Expiry is judged by the node's clock, the one that holds the file.
//
// Thread safety: LeaseKeeper renews from its own thread with its own sessions.

#include <condition_variable>
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
  LeaseKeeper(const scenario::Scenario& sc, std::vector<const scenario::Node*> nodes,
              std::string owner, std::function<void(const std::string&)> log);
  ~LeaseKeeper();
  LeaseKeeper(const LeaseKeeper&) = delete;
  LeaseKeeper& operator=(const LeaseKeeper&) = delete;

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace fwcanary::rollout
