#include "reports/run_model.h"

#include <cmath>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>

#include "agents/records/records.h"
#include "common/file_text.h"
#include "fwcanary/version.h"
#include "rundir/drift_snapshot.h"
#include "rundir/journal.h"
#include "rundir/run_layout.h"
#include "rundir/samples_file.h"

namespace fwcanary::reports {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

double Round(double v, double unit) { return std::round(v / unit) * unit; }

// Quantiles the CDF plot is drawn through: dense in the tail, where firmware regressions show.
const double kCdfQuantiles[] = {0.001, 0.01, 0.05, 0.1,  0.2,  0.3,   0.4,   0.5,    0.6,
                                0.7,   0.8,  0.9,  0.95, 0.97, 0.99,  0.995, 0.999, 0.9999, 1.0};

json Cdf(const LatencyHistogram& h) {
  json points = json::array();
  if (h.count() == 0) return points;
  for (double q : kCdfQuantiles) points.push_back({Round(h.Quantile(q) / 1000.0, 1e-4), q});
  return points;
}

// One client's records of one window, as read from its samples file, and its role there.
struct NodeRecords {
  std::string node, role;
  rundir::SamplesFile samples;
};

struct Inventory {
  std::map<std::string, std::string> writes_to;  // client -> target
  std::map<std::string, std::vector<std::string>> roles;
};

Inventory ReadInventory(const journal::Journal& j) {
  Inventory inv;
  auto fact = j.Fact("inventory");
  if (!fact) return inv;
  json nodes = json::parse(*fact, nullptr, false);
  if (!nodes.is_array()) return inv;
  for (const auto& n : nodes) {
    std::string name = n.value("name", "");
    if (n.value("client", false)) inv.writes_to[name] = n.value("writes_to", name);
    if (n.value("target", false)) inv.roles[name].push_back("target");
    if (n.value("client", false)) inv.roles[name].push_back("client");
  }
  return inv;
}

// Per role and class: per-node mean throughput and merged p99 at each second of the window;
// queue depth per role; the figures per role, phase and class over the whole window.
json WindowSeries(const std::vector<NodeRecords>& nodes, json* queue, json* figures, json* phases) {
  struct Point {
    std::set<std::string> nodes;
    double ops = 0, errors = 0;
    LatencyHistogram hist;
  };
  struct QueuePoint {
    std::set<std::string> nodes;
    double depth = 0;
  };
  std::map<std::pair<std::string, std::string>, std::map<long, Point>> by;  // (role, class) -> t
  std::map<std::string, std::map<long, QueuePoint>> q;                      // role -> t
  struct Figure {
    std::set<std::string> nodes;
    OpStats ops;
    double seconds = 0;
  };
  std::map<std::tuple<std::string, std::string, std::string>, Figure> fig;  // role, phase, class
  std::vector<std::tuple<std::string, double, double>> spans;                // phase, start, end
  // Phase spans from the client with the most intervals (one whose agent failed has none).
  const NodeRecords* reference = nullptr;
  for (const auto& n : nodes) {
    if (!reference || n.samples.intervals.size() > reference->samples.intervals.size()) reference = &n;
  }
  for (const auto& n : nodes) {
    const std::vector<IntervalRecord>& intervals = n.samples.intervals;
    for (std::size_t i = 0; i < intervals.size(); ++i) {
      const IntervalRecord& iv = intervals[i];
      // The series show every second; the figures only those the judge judged (no warm-up, no
      // slivers), so a report's p99 is the one the verdict speaks of.
      const bool judged = n.samples.judged[i];
      long t = std::lround(iv.t);
      for (const auto& [cls, ops] : iv.ops) {
        Point& p = by[{n.role, cls}][t];
        p.nodes.insert(n.node);
        p.ops += static_cast<double>(ops.count) / std::max(iv.dt, 1e-3);
        p.errors += static_cast<double>(ops.errors);
        p.hist.Merge(ops.hist);
        if (!judged) continue;
        Figure& f = fig[{n.role, iv.phase, cls}];
        f.nodes.insert(n.node);
        f.ops.Merge(ops);
      }
      QueuePoint& qp = q[n.role][t];
      qp.nodes.insert(n.node);
      qp.depth += static_cast<double>(iv.queue_depth);
      if (&n == reference) {
        if (spans.empty() || std::get<0>(spans.back()) != iv.phase) {
          spans.emplace_back(iv.phase, iv.t - iv.dt, iv.t);
        }
        std::get<2>(spans.back()) = iv.t;
      }
    }
    // Seconds each node spent per phase, for the figures' per-node rates.
    std::map<std::string, double> secs;
    for (std::size_t i = 0; i < intervals.size(); ++i) {
      if (n.samples.judged[i]) secs[intervals[i].phase] += intervals[i].dt;
    }
    for (auto& [key, f] : fig) {
      if (std::get<0>(key) == n.role && f.nodes.count(n.node)) f.seconds += secs[std::get<1>(key)];
    }
  }
  json series = json::array();
  for (const auto& [key, points] : by) {
    json t = json::array(), tput = json::array(), p99 = json::array(), errs = json::array();
    for (const auto& [sec, p] : points) {
      t.push_back(sec);
      tput.push_back(Round(p.ops / static_cast<double>(p.nodes.size()), 0.01));
      p99.push_back(p.hist.count() ? json(Round(p.hist.Quantile(0.99) / 1000.0, 1e-4)) : json(nullptr));
      errs.push_back(p.errors);
    }
    series.push_back({{"role", key.first}, {"class", key.second}, {"t", t}, {"throughput", tput},
                      {"p99_ms", p99}, {"errors", errs}});
  }
  *queue = json::array();
  for (const auto& [role, points] : q) {
    json t = json::array(), depth = json::array();
    for (const auto& [sec, p] : points) {
      t.push_back(sec);
      depth.push_back(Round(p.depth / static_cast<double>(p.nodes.size()), 0.01));
    }
    queue->push_back({{"role", role}, {"t", t}, {"depth", depth}});
  }
  *figures = json::array();
  for (const auto& [key, f] : fig) {
    const auto& [role, phase, cls] = key;
    double per_node_s = f.seconds / static_cast<double>(std::max<std::size_t>(f.nodes.size(), 1));
    figures->push_back({{"role", role},
                        {"phase", phase},
                        {"class", cls},
                        {"nodes", f.nodes.size()},
                        {"count", f.ops.count},
                        {"errors", f.ops.errors},
                        {"refused", f.ops.refused},
                        {"throughput", per_node_s > 0 ? Round(static_cast<double>(f.ops.count) /
                                                                  static_cast<double>(f.nodes.size()) /
                                                                  per_node_s,
                                                              0.01)
                                                        : 0.0},
                        {"p50_ms", Round(f.ops.hist.Quantile(0.5) / 1000.0, 1e-4)},
                        {"p99_ms", Round(f.ops.hist.Quantile(0.99) / 1000.0, 1e-4)},
                        {"p999_ms", Round(f.ops.hist.Quantile(0.999) / 1000.0, 1e-4)},
                        {"cdf_ms", Cdf(f.ops.hist)}});
  }
  *phases = json::array();
  for (const auto& [name, start, end] : spans) {
    phases->push_back({{"name", name}, {"start", Round(start, 0.001)}, {"end", Round(end, 0.001)}});
  }
  return series;
}

json NodeWindowFacts(const NodeRecords& n) {
  json j = {{"node", n.node}, {"role", n.role}, {"file", n.samples.file},
            {"intervals", n.samples.intervals.size()}};
  if (!n.samples.error.empty()) j["error"] = n.samples.error;
  // Space per stored message: the last interval that stored any (the judge's bytes_per_message).
  for (auto it = n.samples.intervals.rbegin(); it != n.samples.intervals.rend(); ++it) {
    if (it->space.stored_messages == 0) continue;
    j["bytes_per_message"] = Round(static_cast<double>(it->space.allocated_bytes) /
                                       static_cast<double>(it->space.stored_messages), 0.1);
    j["stored_messages"] = it->space.stored_messages;
    j["fs_used_bytes"] = it->space.fs_used_bytes;
    break;
  }
  if (n.samples.summary) {
    const SummaryRecord& s = *n.samples.summary;
    j["status"] = s.status;
    if (!s.error.empty()) j["agent_error"] = s.error;
    j["integrity"] = {{"written", s.messages_written}, {"delivered", s.messages_delivered},
                      {"retrieved", s.messages_retrieved}, {"verified", s.messages_verified},
                      {"lost", s.lost}, {"corrupt", s.corrupt}};
    json drains = json::array();
    for (const auto& p : s.phases) {
      if (p.drain) {
        drains.push_back({{"phase", p.name},
                          {"drain_time_s", p.drain_time_s ? json(Round(*p.drain_time_s, 0.001)) : json(nullptr)},
                          {"max_queue_depth", p.max_queue_depth}});
      }
    }
    j["drain"] = drains;
  } else {
    j["status"] = "no summary";  // the agent was stopped or the window cut short
  }
  return j;
}

// Which role a client played in a window: the baseline window is all baseline; in a wave's
// windows a client is the canary if it writes to a target of that wave, "upgraded" if to one of
// an earlier wave, else a control.
std::string RoleOf(const std::string& client, const std::string& kind, const std::set<std::string>& wave_targets,
                   const std::set<std::string>& earlier, const Inventory& inv, const json& decided) {
  if (kind == "baseline") return "baseline";
  // The rollout records the roles the judge used; deriving them here is for journals written
  // before it did.
  if (decided.is_object() && decided.contains(client) && decided[client].is_string()) {
    return decided[client].get<std::string>();
  }
  auto it = inv.writes_to.find(client);
  std::string target = it == inv.writes_to.end() ? client : it->second;
  if (wave_targets.count(target)) return "canary";
  if (earlier.count(target)) return "upgraded";
  return "control";
}

}  // namespace

std::string ModelString(const nlohmann::json& j, const char* key) {
  return j.is_object() && j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : "";
}

std::string VerdictForExitCode(int code) {
  switch (code) {
    case 0: return "PASS";
    case 1: return "FAIL";
    case 3: return "INCONCLUSIVE";
    default: return "ERROR";
  }
}

Result<json> BuildRunModel(const std::string& run_dir) {
  const rundir::RunLayout layout(run_dir);
  auto opened = journal::Journal::Open(layout.JournalPath());
  if (!opened.ok()) return opened.status();
  const journal::Journal& j = *opened.value();
  const Inventory inv = ReadInventory(j);
  auto fact = [&](const std::string& k, const std::string& d = "") { return j.Fact(k).value_or(d); };

  // Steps and node timelines, from the event log.
  const std::vector<journal::JournalEvent> events = j.EventLog();
  json ev = json::array();
  std::map<std::string, json> steps;  // name -> {started, done}
  std::map<std::string, json> timelines;
  for (const auto& e : events) {
    ev.push_back({{"t", Round(e.t, 0.001)}, {"kind", e.kind}, {"subject", e.subject}, {"state", e.state},
                  {"what", e.what}});
    if (e.kind == "step") {
      json& s = steps[e.subject];
      if (e.state == "started" && !s.contains("started")) s["started"] = Round(e.t, 0.001);
      if (e.state == "done") s["done"] = Round(e.t, 0.001);
    }
    if (e.kind == "node") {
      std::string detail = e.what.substr(std::min(e.what.size(), e.subject.size() + 1 + e.state.size()));
      if (detail.rfind(": ", 0) == 0) detail = detail.substr(2);
      timelines[e.subject].push_back({{"t", Round(e.t, 0.001)}, {"state", e.state}, {"detail", detail}});
    }
  }
  const double started = events.empty() ? 0 : events.front().t;
  const double last = events.empty() ? 0 : events.back().t;

  const std::string status = fact("status", "unknown");
  std::error_code canon_ec;
  json run = {{"id", fs::weakly_canonical(fs::absolute(run_dir), canon_ec).filename().string()},
              {"scenario", fact("scenario")},
              {"scenario_path", fact("scenario_path")},
              {"image", fact("image")},
              {"version", fact("version")},
              {"status", status},
              {"started", Round(started, 0.001)},
              {"updated", Round(last, 0.001)},
              {"duration_s", Round(last - started, 0.001)},
              {"resumed", false},
              {"plan", fact("plan")}};
  for (const auto& e : events) {
    if (e.kind == "note" && e.what == "resumed") run["resumed"] = true;
  }
  if (status == "finished") {
    int code = std::atoi(fact("exit_code", "2").c_str());
    run["exit_code"] = code;
    run["verdict"] = VerdictForExitCode(code);
  } else {
    run["exit_code"] = nullptr;
    run["verdict"] = "INCOMPLETE";  // interrupted (resume it) or still running
  }
  run["reason"] = fact("reason", status == "interrupted" ? "the run was stopped; fwcanary resume continues it"
                                                         : "the run has not finished");

  // Nodes: what the journal knows, in inventory order when it is recorded.
  json nodes = json::array();
  std::map<std::string, journal::JournalNode> jn = j.Nodes();
  std::vector<std::string> order;
  if (auto f = j.Fact("inventory")) {
    json inv_nodes = json::parse(*f, nullptr, false);
    if (inv_nodes.is_array()) {
      for (const auto& n : inv_nodes) order.push_back(n.value("name", ""));
    }
  }
  for (const auto& [name, n] : jn) {
    if (std::find(order.begin(), order.end(), name) == order.end()) order.push_back(name);
  }
  for (const auto& name : order) {
    json node = {{"name", name}, {"roles", inv.roles.count(name) ? json(inv.roles.at(name)) : json::array()}};
    if (auto it = jn.find(name); it != jn.end()) {
      node["version_before"] = it->second.version_before;
      node["state"] = journal::NodeStateName(it->second.state);
      node["detail"] = it->second.detail;
    } else {
      node["state"] = "not reached";
    }
    node["timeline"] = timelines.count(name) ? timelines[name] : json::array();
    nodes.push_back(node);
  }

  // Waves: the judged ones from the journal, each with the judge's full verdict.
  json waves = json::array();
  std::set<std::string> earlier;
  std::map<int, std::set<std::string>> wave_targets;
  std::map<int, json> wave_roles;  // what the rollout decided, when it recorded it
  for (int w = 1; w < 10000; ++w) {
    using rundir::StepName;
    using rundir::WaveStep;
    journal::StepState judged = j.Step(StepName(w, WaveStep::kJudge));
    if (j.Step(StepName(w, WaveStep::kDuring)) == journal::StepState::kNotStarted &&
        judged == journal::StepState::kNotStarted)
      break;
    json data = j.StepData(StepName(w, WaveStep::kJudge));
    json wave = data.value("wave", json{{"wave", w}});
    for (const auto& t : wave.value("nodes", std::vector<std::string>{})) wave_targets[w].insert(t);
    if (wave.contains("roles")) wave_roles[w] = wave["roles"];
    wave["verdict"] = judged == journal::StepState::kDone ? data.value("verdict", "ERROR") : "INCOMPLETE";
    if (!wave.contains("reason")) wave["reason"] = data.value("reason", "");
    if (!wave.contains("failures")) wave["failures"] = json::array();
    if (!wave.contains("controls")) wave["controls"] = json::array();
    auto verdict = ReadTextFile(layout.VerdictJsonPath(w));
    wave["judge"] = verdict.ok() ? json::parse(verdict.value(), nullptr, false) : json(nullptr);
    if (wave["judge"].is_discarded()) wave["judge"] = nullptr;
    // The upgrade window's judgment: the file is written as soon as it is judged, so a run
    // stopped before the wave's verdict still shows it.
    if (!wave.contains("upgrade")) {
      auto up = ReadTextFile(layout.UpgradeJsonPath(w));
      json u = up.ok() ? json::parse(up.value(), nullptr, false) : json();
      if (u.is_object()) wave["upgrade"] = u;
    }
    // Its service levels (harness/judge/slo.h), beside the relative verdict.
    if (!wave.contains("slo")) {
      auto sl = ReadTextFile(layout.SloJsonPath(rundir::WaveName(w)));
      json u = sl.ok() ? json::parse(sl.value(), nullptr, false) : json();
      if (u.is_object()) wave["slo"] = u;
    }
    // Its headroom (harness/judge/headroom.h), when the workload has a ramp.
    if (!wave.contains("headroom")) {
      auto hr = ReadTextFile(layout.HeadroomJsonPath(rundir::WaveName(w)));
      json u = hr.ok() ? json::parse(hr.value(), nullptr, false) : json();
      if (u.is_object()) wave["headroom"] = u;
    }
    json rb = j.StepData(StepName(w, WaveStep::kRollback));
    wave["rolled_back"] = j.Step(StepName(w, WaveStep::kRollback)) == journal::StepState::kDone
                              ? json(rb.value("ok", false))
                              : json(nullptr);
    waves.push_back(wave);
  }
  if (waves.empty()) {
    // Older journals: result.json carries the waves.
    auto result = ReadTextFile(layout.ResultPath());
    if (result.ok()) {
      json r = json::parse(result.value(), nullptr, false);
      if (r.is_object() && r.contains("waves") && r["waves"].is_array()) waves = r["waves"];
    }
    // Every renderer may rely on these keys (a const json's operator[] must find them).
    for (auto& w : waves) {
      for (const char* key : {"nodes", "controls", "failures"}) {
        if (!w.contains(key)) w[key] = json::array();
      }
      for (const char* key : {"verdict", "reason"}) {
        if (!w.contains(key)) w[key] = key == std::string("verdict") ? "INCOMPLETE" : "";
      }
      if (!w.contains("judge")) w["judge"] = nullptr;
      if (!w.contains("rolled_back")) w["rolled_back"] = nullptr;
    }
  }

  // Windows: baseline, then per wave the "during" window and the post-upgrade one.
  json windows = json::array();
  auto add_window = [&](const std::string& step, const std::string& kind, int wave) {
    if (j.Step(step) == journal::StepState::kNotStarted) return;
    json data = j.StepData(step);
    if (!data.contains("samples") || !data["samples"].is_object()) return;
    std::set<std::string> targets = wave > 0 ? wave_targets[wave] : std::set<std::string>{};
    std::vector<NodeRecords> recs;
    for (const auto& [node, path] : data["samples"].items()) {
      NodeRecords r;
      r.node = node;
      r.samples = rundir::ReadSamplesFile(layout.LocateSamples(path.get<std::string>()));
      r.role = RoleOf(node, kind, targets, earlier, inv, wave > 0 ? wave_roles[wave] : json());
      recs.push_back(std::move(r));
    }
    json queue, figures, phases;
    json series = WindowSeries(recs, &queue, &figures, &phases);
    json node_facts = json::array();
    for (const auto& r : recs) node_facts.push_back(NodeWindowFacts(r));
    json win = {{"name", step},
                {"kind", kind},
                {"wave", wave},
                {"attempt", data.value("attempt", 1)},
                {"started", steps.count(step) ? steps[step].value("started", 0.0) : 0.0},
                {"done", steps.count(step) && steps[step].contains("done") ? steps[step]["done"] : json(nullptr)},
                {"phases", phases},
                {"nodes", node_facts},
                {"series", series},
                {"queue", queue},
                {"figures", figures}};
    windows.push_back(win);
  };
  add_window(rundir::kBaselineStep, "baseline", 0);
  for (const auto& w : waves) {
    int n = w.value("wave", 0);
    add_window(rundir::StepName(n, rundir::WaveStep::kDuring), "during", n);
    add_window(rundir::StepName(n, rundir::WaveStep::kAfter), "after", n);
    for (const auto& t : wave_targets[n]) earlier.insert(t);
  }

  // Drift: every snapshotted check, with what it read after the upgrade when that differed.
  json drift = json::array();
  for (const auto& name : order) {
    std::map<std::string, std::string> before = j.Drift(name);
    if (before.empty()) continue;
    auto after_text = ReadTextFile(layout.DriftAfterPath(name));
    std::map<std::string, std::string> after = after_text.ok() ? rundir::ParseDriftSnapshot(after_text.value())
                                                                : std::map<std::string, std::string>{};
    for (const auto& [check, out] : before) {
      json d = {{"node", name}, {"check", check}, {"before", out}, {"changed", after.count(check) > 0}};
      d["after"] = after.count(check) ? json(after[check]) : json(nullptr);
      drift.push_back(d);
    }
  }

  json step_list = json::array();
  for (const auto& [name, s] : steps) {
    step_list.push_back({{"name", name}, {"started", s.contains("started") ? s["started"] : json(nullptr)},
                         {"done", s.contains("done") ? s["done"] : json(nullptr)}});
  }
  // The baseline's service levels, judged before anything was flashed (null: none marked).
  auto base_slo = ReadTextFile(layout.SloJsonPath("baseline"));
  json slo_baseline = base_slo.ok() ? json::parse(base_slo.value(), nullptr, false) : json(nullptr);
  if (!slo_baseline.is_object()) slo_baseline = nullptr;
  // The baseline's knees, before anything was flashed (null: no ramp).
  auto base_headroom = ReadTextFile(layout.HeadroomJsonPath("baseline"));
  json headroom_baseline = base_headroom.ok() ? json::parse(base_headroom.value(), nullptr, false) : json(nullptr);
  if (!headroom_baseline.is_object()) headroom_baseline = nullptr;
  return json{{"report_version", kReportVersion},
              {"tool_version", FWCANARY_VERSION},
              {"run", run},
              {"slo_baseline", slo_baseline},
              {"headroom_baseline", headroom_baseline},
              {"nodes", nodes},
              {"steps", step_list},
              {"waves", waves},
              {"windows", windows},
              {"drift", drift},
              {"events", ev}};
}

}  // namespace fwcanary::reports
