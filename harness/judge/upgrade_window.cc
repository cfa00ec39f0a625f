#include "harness/judge/upgrade_window.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace fwcanary::judge {
namespace {

constexpr int kRecoveryIntervals = 3;  // a throughput mean over this many, so one lucky second is not "back"

uint64_t Completions(const IntervalRecord& r) {
  uint64_t n = 0;
  for (const auto& [cls, ops] : r.ops) n += ops.count;
  return n;
}

bool WorkDue(const IntervalRecord& r) { return r.offered_rate > 0 || r.queue_depth > 0; }

std::string Grouped(uint64_t n) {  // 1350 -> "1,350"
  std::string s = std::to_string(n);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(static_cast<std::size_t>(i), ",");
  return s;
}

std::string Seconds(double s) {
  char b[32];
  std::snprintf(b, sizeof b, s < 10 ? "%.1f s" : "%.0f s", s);
  return b;
}

const Window* DuringWindow(const Run& r) {
  if (const Window* w = r.FindWindow("during")) return w;
  return r.windows.empty() ? nullptr : &r.windows.front();
}

// Seconds from the end of the stall until the throughput is back within tolerance of `base`;
// unset when it is not within the window.
std::optional<double> Recovery(const Window& w, const Stall& s, double base, double tol) {
  std::size_t i = 0;
  while (i < w.intervals.size() && w.intervals[i].t <= s.t_end + 1e-9) ++i;
  for (; i + kRecoveryIntervals <= w.intervals.size(); ++i) {
    double sum = 0, dt = 0;
    for (int k = 0; k < kRecoveryIntervals; ++k) {
      const auto& r = w.intervals[i + static_cast<std::size_t>(k)];
      sum += r.achieved_rate * r.dt;
      dt += r.dt;
    }
    double mean = dt > 0 ? sum / dt : 0;
    if (std::fabs(mean - base) <= tol * base) {
      return std::max(0.0, w.intervals[i].t - w.intervals[i].dt - s.t_end);
    }
  }
  return std::nullopt;
}

// What broke a limit comes first; the stall within its limit, the backlog and the recovery
// follow as context.
void Describe(UpgradeClient& c, const UpgradeLimits& lim) {
  std::vector<std::string> breaches, context;
  if (c.lost + c.corrupt > 0) {
    breaches.push_back(std::to_string(c.lost) + " message(s) lost, " + std::to_string(c.corrupt) +
                       " corrupt during the upgrade");
  }
  if (c.integrity_failures > 0 && c.lost + c.corrupt == 0) {
    breaches.push_back(std::to_string(c.integrity_failures) + " integrity failure(s) during the upgrade");
  }
  if (c.errors + c.refused > 0) {
    std::string by;
    for (const auto& [cls, n] : c.failed_by_class) by += (by.empty() ? "" : ", ") + cls + " " + std::to_string(n);
    std::string s = std::to_string(c.errors) + " operation(s) failed and " + std::to_string(c.refused) +
                    " deliveries were refused during the upgrade (limit " + std::to_string(lim.max_errors) +
                    "): " + by;
    (c.errors + c.refused > lim.max_errors ? breaches : context).push_back(s);
  }
  if (c.longest.seconds > 0 && !c.ended_with_reboot) {
    char res[16];
    std::snprintf(res, sizeof res, "%g", c.resolution_s);
    std::string s = std::string("I/O stalled ") + (c.longest.open ? "at least " : "") +
                    Seconds(c.longest.seconds) + " during the upgrade (limit " + Seconds(lim.max_stall_s) +
                    "; " + res + " s resolution)" + (c.longest.open ? ", still stalled when the window ended" : "");
    (c.longest.seconds > lim.max_stall_s ? breaches : context).push_back(s);
  }
  if (breaches.empty() && context.empty()) return;
  if (c.peak_backlog > 0) context.push_back("deliveries queued " + Grouped(c.peak_backlog) + " deep");
  if (c.longest.seconds > 0 && !c.ended_with_reboot) {
    context.push_back(c.recovery_s ? "back to baseline throughput " + Seconds(*c.recovery_s) + " after"
                                   : "not back to baseline throughput by the window's end");
  }
  std::string s = c.node + ": ";
  std::size_t i = 0;
  for (const auto* parts : {&breaches, &context}) {
    for (const auto& p : *parts) s += (i++ ? "; " : "") + p;
  }
  c.finding = s;
}

}  // namespace

Stall LongestStall(const Window& w, int* count) {
  Stall best;
  int n = 0;
  for (std::size_t i = 0; i < w.intervals.size(); ++i) {
    const auto& r = w.intervals[i];
    if (Completions(r) > 0 || !WorkDue(r)) continue;
    Stall s;
    s.t_begin = r.t - r.dt;
    std::size_t j = i;
    for (; j < w.intervals.size() && Completions(w.intervals[j]) == 0 && WorkDue(w.intervals[j]); ++j) {
      s.seconds += w.intervals[j].dt;
      s.t_end = w.intervals[j].t;
    }
    s.open = j == w.intervals.size();
    if (j - i >= 2) ++n;
    if (s.seconds > best.seconds) best = s;
    i = j;
  }
  if (count != nullptr) *count = n;
  return best;
}

UpgradeJudgment JudgeUpgradeWindow(const std::vector<UpgradeClientInput>& in,
                                   const UpgradeLimits& limits) {
  UpgradeJudgment out;
  out.limits = limits;
  for (const auto& ci : in) {
    UpgradeClient c;
    c.node = ci.node;
    c.role = ci.upgraded ? "upgraded" : "control";
    c.ended_with_reboot = ci.ended_with_reboot;
    const Window* w = ci.run != nullptr ? DuringWindow(*ci.run) : nullptr;
    if (w == nullptr || w->intervals.empty()) {
      // No records at all: the window's own error says why (it is an ERROR of the run, not
      // judged here); a rebooted node's agent may have died before its first interval.
      c.finding = ci.node + ": no records of the upgrade window" + (ci.load_error.empty() ? "" : " (" + ci.load_error + ")");
      out.clients.push_back(c);
      continue;
    }
    c.has_data = true;
    c.resolution_s = w->intervals.front().dt;
    for (const auto& r : w->intervals) c.resolution_s = std::max(c.resolution_s, r.dt);
    c.longest = LongestStall(*w, &c.stalls);
    for (const auto& r : w->intervals) {
      for (const auto& [cls, ops] : r.ops) {
        c.errors += ops.errors;
        c.refused += ops.refused;
        if (ops.errors + ops.refused > 0) c.failed_by_class[cls] += ops.errors + ops.refused;
      }
      c.integrity_failures += r.integrity_failures;
      c.peak_backlog = std::max(c.peak_backlog, r.queue_depth);
    }
    c.lost = ci.run->lost.size();
    c.corrupt = ci.run->corrupt.size();
    if (c.longest.seconds > 0) {
      double base = ci.baseline_rate > 0 ? ci.baseline_rate : w->intervals.front().intended_rate;
      c.recovery_s = Recovery(*w, c.longest, base, limits.recovery_tolerance);
      c.recovered = c.recovery_s.has_value();
    }
    Describe(c, limits);
    if (ci.upgraded) {
      bool stall = !c.ended_with_reboot && c.longest.seconds > limits.max_stall_s;
      bool errors = c.errors + c.refused > limits.max_errors;
      bool integrity = c.lost + c.corrupt + c.integrity_failures > 0;
      if (stall || errors || integrity) c.verdict = Verdict::kFail;
    }
    out.clients.push_back(c);
  }
  // A stall beyond the limit that every control saw at the same time is the lab's.
  std::vector<const UpgradeClient*> controls;
  for (const auto& c : out.clients) {
    if (c.role == "control" && c.has_data) controls.push_back(&c);
  }
  for (auto& c : out.clients) {
    if (c.verdict != Verdict::kFail || controls.empty()) continue;
    bool only_stall = c.lost + c.corrupt + c.integrity_failures == 0 && c.errors + c.refused <= limits.max_errors;
    if (!only_stall) continue;
    bool all = true;
    for (const auto* k : controls) {
      all = all && k->longest.seconds > limits.max_stall_s && k->longest.t_begin < c.longest.t_end &&
            c.longest.t_begin < k->longest.t_end;
    }
    if (all) {
      c.verdict = Verdict::kInconclusive;
      c.finding += "; every control stalled beyond the limit at the same time (the lab's stall, not the firmware's)";
    }
  }
  for (const auto& c : out.clients) FoldVerdict(c.verdict, c.finding, &out.overall, &out.reason);
  return out;
}

nlohmann::json ToJson(const UpgradeJudgment& u) {
  nlohmann::json clients = nlohmann::json::array();
  for (const auto& c : u.clients) {
    nlohmann::json j = {{"node", c.node},
                        {"role", c.role},
                        {"has_data", c.has_data},
                        {"verdict", VerdictName(c.verdict)}};
    if (c.has_data) {
      j["resolution_s"] = c.resolution_s;
      j["longest_stall_s"] = c.longest.seconds;
      j["stalls"] = c.stalls;
      if (c.longest.seconds > 0) {
        j["stall_begin_t"] = c.longest.t_begin;
        j["stall_end_t"] = c.longest.t_end;
        j["stall_open"] = c.longest.open;
        if (c.recovery_s) j["recovery_s"] = *c.recovery_s;
      }
      j["errors"] = c.errors;
      j["failed_by_class"] = c.failed_by_class;
      j["refused"] = c.refused;
      j["integrity_failures"] = c.integrity_failures;
      j["lost"] = c.lost;
      j["corrupt"] = c.corrupt;
      j["peak_backlog"] = c.peak_backlog;
    }
    if (c.ended_with_reboot) j["ended_with_reboot"] = true;
    if (!c.finding.empty()) j["finding"] = c.finding;
    clients.push_back(j);
  }
  nlohmann::json j = {{"verdict", VerdictName(u.overall)},
                      {"limits", {{"max_stall_s", u.limits.max_stall_s},
                                  {"max_errors", u.limits.max_errors},
                                  {"recovery_tolerance", u.limits.recovery_tolerance}}},
                      {"clients", clients}};
  if (!u.reason.empty()) j["reason"] = u.reason;
  return j;
}

std::string RenderUpgradeTable(const UpgradeJudgment& u) {
  std::string s;
  char line[256];
  std::snprintf(line, sizeof line, "upgrade window (limits: stall %s, errors %llu)\n",
                Seconds(u.limits.max_stall_s).c_str(), static_cast<unsigned long long>(u.limits.max_errors));
  s += line;
  for (const auto& c : u.clients) {
    if (!c.has_data) {
      std::snprintf(line, sizeof line, "  %-12s %-8s no records\n", c.node.c_str(), c.role.c_str());
    } else {
      std::snprintf(line, sizeof line,
                    "  %-12s %-8s stall %7s%s  errors %llu  refused %llu  lost %zu  backlog %llu  %s\n",
                    c.node.c_str(), c.role.c_str(), Seconds(c.longest.seconds).c_str(),
                    c.ended_with_reboot ? " (rebooted)" : "", static_cast<unsigned long long>(c.errors),
                    static_cast<unsigned long long>(c.refused), c.lost + c.corrupt,
                    static_cast<unsigned long long>(c.peak_backlog), VerdictName(c.verdict));
    }
    s += line;
  }
  s += std::string("upgrade window: ") + VerdictName(u.overall) + (u.reason.empty() ? "" : " — " + u.reason) + "\n";
  return s;
}

}  // namespace fwcanary::judge
