#include "harness/rollout/activation.h"

#include <chrono>
#include <regex>
#include <thread>

#include "harness/rollout/plan.h"
#include "harness/scenario/command_template.h"

namespace fwcanary::rollout {

Status RunHealthChecks(const scenario::Scenario& sc, NodeSession& session) {
  for (const auto& c : sc.health) {
    if (!c.AppliesTo(session.node())) continue;
    auto line = scenario::Expand(c.cmd.run, NodeValues(sc, session.node()));
    if (!line.ok()) return line.status();
    auto r = session.Run(line.value(), c.cmd.timeout_s);
    if (!r.ok()) return r.status();
    std::string who = session.node().name + ": health check '" + c.name + "'";
    if (r->timed_out) return Status::Timeout(who + " timed out");
    if (r->exit_code != c.expect_exit) {
      return Status::Unavailable(who + " exited " + std::to_string(r->exit_code) + ", expected " +
                                 std::to_string(c.expect_exit));
    }
    if (!c.expect_regex.empty() && !std::regex_search(r->out, std::regex(c.expect_regex))) {
      return Status::Unavailable(who + ": output does not match /" + c.expect_regex + "/");
    }
  }
  return Status::Ok();
}

// This loop is its own retry: its calls are not retried inside (a down node is polled).
Result<Activation> WaitForActivation(const scenario::Scenario& sc, NodeSession& session,
                                     const std::string& expected_version,
                                     const std::string& old_boot_id,
                                     const std::function<void(const std::string&)>& log,
                                     bool (*stop)()) {
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  const auto deadline = start + std::chrono::duration_cast<Clock::duration>(
                                    std::chrono::duration<double>(sc.firmware.reboot_timeout_s));
  const std::string& name = session.node().name;
  std::string last = "never answered";
  bool said_down = false;
  // A connection that outlived the upgrade's management restart proves nothing about the
  // management plane (an NDU keeps sessions while its sshd never returns): every poll that
  // does not yet see the new firmware forgets its connection, so the one that does see it was
  // made after the change.
  session.Drop();
  while (Clock::now() < deadline) {
    if (stop != nullptr && stop()) return Status::Unavailable(name + ": stopped while waiting for activation");
    auto boot = session.Ask(sc.firmware.boot_id_cmd, NodeSession::Retry::kNever);
    if (!boot.ok()) {
      session.Drop();
      if (!said_down) {
        log("down: " + boot.status().message());
        said_down = true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      continue;
    }
    if (sc.firmware.reboots && boot.value() == old_boot_id) {
      last = "boot id unchanged: it has not rebooted (yet)";
      session.Drop();
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      continue;
    }
    auto version = session.Ask(sc.firmware.version_cmd, NodeSession::Retry::kNever);
    if (!version.ok()) {
      last = version.status().message();
      session.Drop();
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      continue;
    }
    if (version.value() != expected_version) {
      last = "came back with version " + version.value() + ", expected " + expected_version;
      // Rebooted into the wrong firmware: waiting longer will not change it. Without a
      // reboot the new version may take a moment to show.
      // (With the old boot id unknown, as after a resume, the reboot may still be to come.)
      if (sc.firmware.reboots && !old_boot_id.empty()) return Status::Unavailable(name + ": " + last);
      session.Drop();
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      continue;
    }
    // Stability: up, healthy and on the same boot for stable_s.
    const auto stable_until = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                                 std::chrono::duration<double>(sc.firmware.stable_s));
    Status health = RunHealthChecks(sc, session);
    while (health.ok() && Clock::now() < stable_until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      auto again = session.Ask(sc.firmware.boot_id_cmd, NodeSession::Retry::kNever);
      if (!again.ok() || again.value() != boot.value()) {
        health = Status::Unavailable(name + ": went down again within the stability window");
        break;
      }
      health = RunHealthChecks(sc, session);
    }
    if (!health.ok()) {
      last = health.message();
      session.Drop();
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      continue;
    }
    Activation a;
    a.version = version.value();
    a.boot_id = boot.value();
    a.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    return a;
  }
  return Status::Timeout(name + ": not active on " + expected_version + " within " +
                         std::to_string(static_cast<int>(sc.firmware.reboot_timeout_s)) +
                         " s (" + last + ")");
}

}  // namespace fwcanary::rollout
