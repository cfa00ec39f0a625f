#include "harness/rollout/lease_lock.h"

#include <chrono>

#include "harness/rollout/fan_out.h"
#include "harness/rollout/plan.h"
#include "harness/scenario/command_template.h"

namespace fwcanary::rollout {
namespace {

using scenario::ShellQuote;

// The lock file's path, quoted whole for the shell: its literal part is the scenario's text and
// its placeholders' values are a node's, so both are expanded unquoted (ExpandRaw) and the
// whole path is then quoted once, as one word.
Result<std::string> LockPath(const scenario::Scenario& sc, const scenario::Node& n) {
  std::map<std::string, std::string> raw = NodeValues(sc, n);
  auto path = scenario::ExpandRaw(sc.rollout.lock_path, raw);
  if (!path.ok()) return path.status();
  return ShellQuote(path.value());
}

// Exit 0 taken (or renewed), 3 held by someone else (stdout says who and how long).
// Taking over an expired lease is atomic: first the takeover token "<lock>.takeover.<expiry>"
// is created with noclobber (O_EXCL), which only one controller can do for that lease's expiry;
// only the one that made it replaces the lock (rename). Tokens stay until the lease is
// released, so a slow taker that read the same expired lease long ago cannot win later.
// Renewing our own unexpired lease needs no token (nobody else may take it before it expires).
std::string AcquireScript(const std::string& path, const std::string& owner, long ttl) {
  return "lock=" + path + "; owner=" + ShellQuote(owner) + "; ttl=" + std::to_string(ttl) +
         R"SH(; now=$(date +%s) || exit 2
if (set -C; printf '%s %s\n' "$owner" $((now + ttl)) > "$lock") 2>/dev/null; then exit 0; fi
read -r holder expiry < "$lock" || { holder=unreadable; expiry=0; }
case $expiry in ''|*[!0-9]*) expiry=0 ;; esac
if [ "$holder" = "$owner" ] && [ "$expiry" -ge "$now" ]; then
  printf '%s %s\n' "$owner" $((now + ttl)) > "$lock.$$" && mv -f "$lock.$$" "$lock" && exit 0
  exit 2
fi
if [ "$expiry" -lt "$now" ]; then
  if (set -C; printf '%s\n' "$owner" > "$lock.takeover.$expiry") 2>/dev/null; then
    printf '%s %s\n' "$owner" $((now + ttl)) > "$lock.$$" && mv -f "$lock.$$" "$lock" && exit 0
    exit 2
  fi
  read -r holder < "$lock.takeover.$expiry" || holder=unreadable
  echo "$holder 0"; exit 3
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
[ "$holder" = "$owner" ] && rm -f "$lock" "$lock".takeover.*; exit 0)SH",
                 sc.ssh.command_timeout_s);
  if (!r.ok()) return r.status();
  return Status::Ok();
}

LeaseKeeper::LeaseKeeper(const scenario::Scenario& sc, std::vector<const scenario::Node*> nodes,
                         std::string owner, std::function<void(const std::string&)> log)
    : ttl_s_(sc.rollout.lock_ttl_s) {
  for (const auto* n : nodes) last_ok_[n->name] = Clock::now();  // just taken by AcquireLease
  thread_ = std::thread([this, &sc, nodes = std::move(nodes), owner = std::move(owner),
                         log = std::move(log)] {
    const auto period = std::chrono::duration<double>(sc.rollout.lock_ttl_s / 3);
    std::unique_lock lock(mu_);
    while (!cv_.wait_for(lock, period, [this] { return stop_; })) {
      lock.unlock();
      try {
        FanOut<const scenario::Node*>(nodes, sc.ssh.concurrency, [&](const scenario::Node* n) {
          NodeSession s(sc, *n);
          Status st = AcquireLease(sc, s, owner);
          std::lock_guard g(mu_);
          if (st.ok()) {
            last_ok_[n->name] = Clock::now();
          } else {
            log("lease renewal: " + st.message());
            if (st.code() == Status::Code::kRefused && lost_.ok()) lost_ = st;
          }
        });
      } catch (const std::exception& e) {
        log(std::string("lease renewal: ") + e.what());
      }
      lock.lock();
    }
  });
}

Status LeaseKeeper::Held() const {
  std::lock_guard lock(mu_);
  if (!lost_.ok()) return lost_;
  // Two renewals missed: with the third the lease may expire, and someone may take it over.
  const auto limit = std::chrono::duration<double>(ttl_s_ * 2 / 3);
  for (const auto& [name, t] : last_ok_) {
    if (Clock::now() - t > limit) {
      return Status::Unavailable(name + ": not renewed for " +
                                 std::to_string(static_cast<int>(std::chrono::duration<double>(Clock::now() - t).count())) +
                                 " s (it expires after " + std::to_string(static_cast<int>(ttl_s_)) + " s)");
    }
  }
  return Status::Ok();
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
