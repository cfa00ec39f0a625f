#include "harness/judge/headroom.h"

#include <algorithm>
#include <cstdio>
#include <map>

namespace fwcanary::judge {
namespace {

std::string Pct(double fraction) {
  char b[32];
  std::snprintf(b, sizeof(b), "%+.0f%%", 100 * fraction);
  return b;
}

double LastStep(const RampKnees& k) { return k.steps.empty() ? 0 : k.steps.back().multiplier; }

// The knee as a number: its lower end (a bound when censored); 0 when not even the first step.
double KneeValue(const Knee& k) { return k.knee.value_or(0); }

std::optional<RampKnees> KneesOf(const Run* run, const KneeRule& rule) {
  if (run == nullptr || run->ramp.empty()) return std::nullopt;
  return FindKnees(run->ramp, rule);
}

const Run* ByNode(const std::vector<Run>& runs, const std::string& node) {
  for (const auto& r : runs) {
    if (r.node == node) return &r;
  }
  return nullptr;
}

// A client's knees after (its run in the judged window) and before (its baseline run).
NodeHeadroom Paired(const Run& after, const std::vector<Run>& baseline, const std::string& role, const KneeRule& rule) {
  NodeHeadroom n;
  n.node = after.node;
  n.role = role;
  n.before = KneesOf(ByNode(baseline, after.node), rule);
  n.after = KneesOf(&after, rule);
  return n;
}

nlohmann::json KneesJson(const RampKnees& k) {
  auto knee = [&](const Knee& n) {
    nlohmann::json j = {{"served", n.served}, {"how", n.how}, {"text", KneeText(n, LastStep(k))}};
    j["knee"] = n.knee ? nlohmann::json(*n.knee) : nlohmann::json(nullptr);
    j["next"] = n.next ? nlohmann::json(*n.next) : nlohmann::json(nullptr);
    return j;
  };
  nlohmann::json j = knee(k.node);
  j["base_rate"] = k.base_rate;
  j["classes"] = nlohmann::json::object();
  for (const auto& [cls, n] : k.classes) j["classes"][cls] = knee(n);
  j["steps"] = nlohmann::json::array();
  for (const auto& s : k.steps) {
    j["steps"].push_back({{"multiplier", s.multiplier},
                          {"seconds", s.seconds},
                          {"offered", s.offered},
                          {"achieved", s.achieved},
                          {"backlog_growth", s.backlog_growth},
                          {"refused", s.refused},
                          {"p50_us", s.p50_us},
                          {"p99_us", s.p99_us},
                          {"kept_up", s.KeptUp()},
                          {"why", s.Why()}});
  }
  return j;
}

}  // namespace

std::string KneeText(const Knee& k, double last_step) {
  if (!k.knee) return "below " + StepText(k.next.value_or(1));
  if (!k.next) return "at least " + StepText(std::max(*k.knee, last_step));
  return StepText(*k.knee);
}

HeadroomJudgment JudgeHeadroom(const std::vector<Run>& baseline, const std::vector<Run>& candidate,
                               const std::vector<Run>& control, const HeadroomConfig& cfg, const std::string& window) {
  HeadroomJudgment out;
  out.window = window;
  out.required = cfg.expected_surge * (1 + cfg.margin);
  // The controls first: their change is what the host did to everyone in the same windows.
  std::vector<double> changes;
  for (const auto& r : control) {
    NodeHeadroom n = Paired(r, baseline, "control", cfg.rule);
    if (!n.before && !n.after) continue;
    if (n.before && n.after && KneeValue(n.before->node) > 0 && KneeValue(n.after->node) > 0) {
      n.change = KneeValue(n.after->node) / KneeValue(n.before->node);
      // Censored on both sides: the same ramp, kept up throughout: no change is what it shows.
      if (!n.before->node.next && !n.after->node.next) n.change = 1;
      changes.push_back(n.change);
    }
    n.sentence = n.node + " (control) keeps up to " +
                 (n.after ? KneeText(n.after->node, LastStep(*n.after)) : std::string("(no ramp)")) + " (" +
                 (n.before ? KneeText(n.before->node, LastStep(*n.before)) : std::string("no ramp")) + " before)";
    out.nodes.push_back(std::move(n));
  }
  if (!changes.empty()) {
    std::sort(changes.begin(), changes.end());
    const std::size_t m = changes.size() / 2;
    out.control_change = changes.size() % 2 ? changes[m] : (changes[m - 1] + changes[m]) / 2;
  }
  const std::string surge = "the expected surge is " + StepText(cfg.expected_surge) +
                            (cfg.margin > 0 ? " (with its margin, " + StepText(out.required) + ")" : "");
  std::vector<NodeHeadroom> candidates;
  for (const auto& r : candidate) {
    NodeHeadroom n = Paired(r, baseline, "candidate", cfg.rule);
    if (!n.after) {
      n.verdict = Verdict::kInconclusive;
      n.sentence = n.node + ": no ramp in the " + window + " window: its headroom after the upgrade is unknown";
      candidates.push_back(std::move(n));
      continue;
    }
    const Knee& a = n.after->node;
    const std::string before = n.before ? KneeText(n.before->node, LastStep(*n.before)) : std::string("no ramp");
    const std::string head =
        n.node + (a.knee ? " keeps up to " + KneeText(a, LastStep(*n.after)) + " the steady rate"
                         : " does not keep up at the ramp's first step, " + StepText(a.next.value_or(1)) + ",") +
        " after the upgrade (" + before + " before)";
    // Absolute: the expected surge, with its margin.
    if (KneeValue(a) < out.required) {
      if (!a.next && LastStep(*n.after) < out.required) {
        n.verdict = Verdict::kInconclusive;
        n.sentence = head + "; " + surge + ", beyond the ramp's last step: give it a step at or above it";
      } else {
        n.verdict = Verdict::kFail;
        n.sentence = head + "; " + surge + ": " + a.how;
      }
    }
    // Relative: the fall beyond the controls'.
    if (n.verdict == Verdict::kPass && n.before && KneeValue(n.before->node) > 0) {
      const Knee& b = n.before->node;
      n.change = KneeValue(a) / KneeValue(b);
      if (!a.next && !b.next) n.change = std::max(n.change, 1.0);  // both kept up throughout
      const double rel = n.change / out.control_change;
      const std::string by = "its headroom fell " + Pct(n.change - 1) +
                             (out.control_change != 1 ? ", the controls' " + Pct(out.control_change - 1) : "") +
                             " (tolerance -" + std::to_string(static_cast<int>(100 * cfg.tolerance + 0.5)) + "%)";
      if (rel < 1 - cfg.tolerance) {
        if (!a.next) {
          n.verdict = Verdict::kInconclusive;
          n.sentence = head + "; " + by + ", but its ramp ended at " + StepText(LastStep(*n.after)) +
                       " before its knee";
        } else if (cfg.critical) {
          n.verdict = Verdict::kFail;
          n.sentence = head + "; " + by;
        } else {
          n.sentence = head + "; " + by + " (headroom is not critical: reported only)";
        }
      }
    }
    if (n.sentence.empty()) n.sentence = head + "; " + surge + ": covered";
    candidates.push_back(std::move(n));
  }
  for (const auto& n : candidates) FoldVerdict(n.verdict, n.sentence, &out.overall, &out.reason);
  out.nodes.insert(out.nodes.begin(), candidates.begin(), candidates.end());
  return out;
}

HeadroomJudgment BaselineHeadroom(const std::vector<Run>& baseline, const HeadroomConfig& cfg) {
  HeadroomJudgment out;
  out.window = "baseline";
  out.required = cfg.expected_surge * (1 + cfg.margin);
  for (const auto& r : baseline) {
    NodeHeadroom n;
    n.node = r.node;
    n.role = "baseline";
    n.before = KneesOf(&r, cfg.rule);
    if (!n.before) continue;
    const Knee& b = n.before->node;
    n.sentence = n.node + " keeps up to " + KneeText(b, LastStep(*n.before)) + " the steady rate before the upgrade";
    if (KneeValue(b) < out.required && b.next) {
      // Reported, not failed: the question is what the upgrade changes; a baseline already
      // short of the surge is something to know before the window, though.
      n.sentence += " — already short of the expected surge of " + StepText(out.required) + ": " + b.how;
    }
    out.nodes.push_back(std::move(n));
  }
  return out;
}

nlohmann::json ToJson(const HeadroomJudgment& h) {
  nlohmann::json j = {{"window", h.window},
                      {"required", h.required},
                      {"control_change", h.control_change},
                      {"verdict", VerdictName(h.overall)},
                      {"reason", h.reason}};
  j["nodes"] = nlohmann::json::array();
  for (const auto& n : h.nodes) {
    nlohmann::json nj = {{"node", n.node},
                         {"role", n.role},
                         {"change", n.change},
                         {"verdict", VerdictName(n.verdict)},
                         {"sentence", n.sentence}};
    nj["before"] = n.before ? KneesJson(*n.before) : nlohmann::json(nullptr);
    nj["after"] = n.after ? KneesJson(*n.after) : nlohmann::json(nullptr);
    j["nodes"].push_back(nj);
  }
  return j;
}

std::string RenderHeadroomTable(const HeadroomJudgment& h) {
  std::string out = "headroom (" + h.window + " window; the knee must reach " + StepText(h.required) + ")\n";
  for (const auto& n : h.nodes) {
    char line[256];
    const std::string before = n.before ? KneeText(n.before->node, LastStep(*n.before)) : "-";
    const std::string after = n.after ? KneeText(n.after->node, LastStep(*n.after)) : "-";
    std::snprintf(line, sizeof(line), "  %-12s %-9s before %-12s after %-12s %-6s %s\n", n.node.c_str(),
                  n.role.c_str(), before.c_str(), after.c_str(), n.change > 0 ? Pct(n.change - 1).c_str() : "",
                  n.role == "candidate" ? VerdictName(n.verdict) : "");
    out += line;
  }
  if (h.window != "baseline") {
    out += std::string("  headroom: ") + VerdictName(h.overall) + (h.reason.empty() ? "" : " — " + h.reason) + "\n";
  } else {
    for (const auto& n : h.nodes) out += "  " + n.sentence + "\n";
  }
  return out;
}

}  // namespace fwcanary::judge
