#include "harness/rollout/command_arrival.h"

#include <chrono>
#include <thread>

namespace fwcanary::rollout {

Arrival WatchForArrival(const scenario::Scenario& sc, NodeSession& session, const std::string& target,
                        const std::string& boot_before, bool (*stop)()) {
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                           std::chrono::duration<double>(sc.firmware.resend_after_s));
  std::string seen;
  do {
    if (stop != nullptr && stop()) return {true, "stopped while watching"};
    auto boot = session.Ask(sc.firmware.boot_id_cmd, NodeSession::Retry::kNever);
    if (!boot.ok()) {
      session.Drop();
      return {true, "went down (" + boot.status().message() + ")"};
    }
    if (!boot_before.empty() && boot.value() != boot_before) return {true, "new boot id " + boot.value()};
    auto version = session.Ask(sc.firmware.version_cmd, NodeSession::Retry::kNever);
    if (!version.ok()) {
      session.Drop();
      return {true, "went down (" + version.status().message() + ")"};
    }
    if (version.value() == target) return {true, "reports " + target};
    seen = "up on " + version.value() + (boot_before.empty() ? "" : ", same boot") + " for " +
           std::to_string(static_cast<int>(sc.firmware.resend_after_s)) + " s";
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  } while (Clock::now() < deadline);
  return {false, seen};
}

}  // namespace fwcanary::rollout
