#include "harness/rollout/lease_lock.h"

#include <chrono>

#include "harness/rollout/fan_out.h"
#include "harness/rollout/plan.h"
#include "harness/scenario/command_template.h"

namespace fwcanary::rollout {
namespace {

using scenario::ShellQuote;

Result<std::string> LockPath(const scenario::Scenario& sc, const scenario::Node& n) {
  return scenario::Expand(sc.rollout.lock_path, NodeValues(sc, n));
}

// Exit 0 taken (or renewed), 3 held by someone else (stdout says who and how long).
std::string AcquireScript(const std::string& path, const std::string& owner, long ttl) {
  return "lock=" + path + "; owner=" + ShellQuote(owner) + "; ttl=" + std::to_string(ttl) +
         R"SH(; now=$(date +%s) || exit 2
if (set -C; printf '%s %s\n' "$owner" $((now + ttl)) > "$lock") 2>/dev/null; then exit 0; fi
read -r holder expiry < "$lock" || { holder=unreadable; expiry=0; }
case $expiry in ''|*[!0-9]*) expiry=0 ;; esac
if [ "$holder" = "$owner" ] || [ "$expiry" -lt "$now" ]; then
  printf '%s %s\n' "$owner" $((now + ttl)) > "$lock.$$" && mv -f "$lock.$$" "$lock" && exit 0
  exit 2
fi
echo "$holder $((expiry - now))"; exit 3)SH";
}

}  // namespace

Status AcquireLease(const scenario::Scenario& sc, NodeSession& s, const std::string& owner) {
  auto path = LockPath(sc, s.node());
  if (!path.ok()) return path.status();
  auto r = s.Run(AcquireScript(path.value(), owner, static_cast<long>(sc.rollout.lock_ttl_s)),
                 sc.ssh.command_timeout_s);
  if (!r.ok()) return r.status();
  if (r->exit_code == 0) return Status::Ok();
  std::string out = r->out;
  while (!out.empty() && out.back() == '\n') out.pop_back();
  if (r->exit_code == 3) {
    std::size_t sp = out.rfind(' ');
    return Status::Refused(s.node().name + ": locked by another controller: " +
                           out.substr(0, sp) + " for " + out.substr(sp + 1) + " more s (" +
                           path.value() + ")");
  }
  return Status::Unavailable(s.node().name + ": cannot write the lease " + path.value() + ": " +
                             (r->err.empty() ? out : r->err));
}

Status ReleaseLease(const scenario::Scenario& sc, NodeSession& s, const std::string& owner) {
  auto path = LockPath(sc, s.node());
  if (!path.ok()) return path.status();
  auto r = s.Run("lock=" + path.value() + "; owner=" + ShellQuote(owner) +
                     R"SH(; read -r holder expiry < "$lock" 2>/dev/null || exit 0
[ "$holder" = "$owner" ] && rm -f "$lock"; exit 0)SH",
                 sc.ssh.command_timeout_s);
  if (!r.ok()) return r.status();
  return Status::Ok();
}

LeaseKeeper::LeaseKeeper(const scenario::Scenario& sc, std::vector<const scenario::Node*> nodes,
                         std::string owner, std::function<void(const std::string&)> log) {
  thread_ = std::thread([this, &sc, nodes = std::move(nodes), owner = std::move(owner),
                         log = std::move(log)] {
    const auto period = std::chrono::duration<double>(sc.rollout.lock_ttl_s / 3);
    std::unique_lock lock(mu_);
    while (!cv_.wait_for(lock, period, [this] { return stop_; })) {
      lock.unlock();
      FanOut<const scenario::Node*>(nodes, sc.ssh.concurrency, [&](const scenario::Node* n) {
        NodeSession s(sc, *n);
        if (Status st = AcquireLease(sc, s, owner); !st.ok()) log("lease renewal: " + st.message());
      });
      lock.lock();
    }
  });
}

LeaseKeeper::~LeaseKeeper() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

}  // namespace fwcanary::rollout
