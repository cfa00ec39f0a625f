#include "reports/openmetrics.h"

#include <cmath>
#include <cstdio>
#include <map>

#include "reports/run_model.h"

namespace fwcanary::reports {
namespace {

using nlohmann::json;

std::string Label(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

class Writer {
 public:
  explicit Writer(std::string base) : base_(std::move(base)) {}
  void Family(const std::string& name, const std::string& type, const std::string& help) {
    out_ += "# HELP " + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
  }
  void Sample(const std::string& name, const std::map<std::string, std::string>& labels, double v) {
    if (!std::isfinite(v)) return;
    std::string l = base_;
    for (const auto& [k, val] : labels) l += "," + k + "=\"" + Label(val) + "\"";
    char num[64];
    std::snprintf(num, sizeof num, "%.10g", v);
    out_ += name + "{" + l + "} " + num + "\n";
  }
  std::string Done() { return out_ + "# EOF\n"; }

 private:
  std::string base_, out_;
};

}  // namespace

std::string RenderOpenMetrics(const json& model) {
  const json& run = model["run"];
  Writer w("scenario=\"" + Label(ModelString(run, "scenario")) + "\",version=\"" +
           Label(ModelString(run, "version")) + "\"");
  const std::string verdict = ModelString(run, "verdict");
  w.Family("fwcanary_run_exit_code", "gauge", "exit code of the last run (0 pass, 1 regression, 2 error, 3 inconclusive; -1 not finished)");
  w.Sample("fwcanary_run_exit_code", {}, run["exit_code"].is_number() ? run["exit_code"].get<double>() : -1.0);
  w.Family("fwcanary_run_verdict", "gauge", "1 for the verdict of the last run");
  w.Sample("fwcanary_run_verdict", {{"verdict", verdict}}, 1);
  w.Family("fwcanary_run_started_seconds", "gauge", "unix time the last run started");
  w.Sample("fwcanary_run_started_seconds", {}, run.value("started", 0.0));
  w.Family("fwcanary_run_duration_seconds", "gauge", "how long the last run took");
  w.Sample("fwcanary_run_duration_seconds", {}, run.value("duration_s", 0.0));

  w.Family("fwcanary_wave_passed", "gauge", "1 if the wave passed, 0 if not");
  for (const auto& wave : model["waves"]) {
    w.Sample("fwcanary_wave_passed", {{"wave", std::to_string(wave.value("wave", 0))}},
             ModelString(wave, "verdict") == "PASS");
  }
  w.Family("fwcanary_upgrade_longest_stall_seconds", "gauge",
           "the longest time a client saw no operation complete while its wave flashed");
  for (const auto& wave : model["waves"]) {
    if (!wave.contains("upgrade")) continue;
    for (const auto& c : wave["upgrade"].value("clients", json::array())) {
      if (!c.value("has_data", false)) continue;
      w.Sample("fwcanary_upgrade_longest_stall_seconds",
               {{"wave", std::to_string(wave.value("wave", 0))}, {"node", ModelString(c, "node")},
                {"role", ModelString(c, "role")}},
               c.value("longest_stall_s", 0.0));
    }
  }
  w.Family("fwcanary_slo_met", "gauge", "1 if the service level was shown met, 0 if broken or not shown");
  for (const auto& wave : model["waves"]) {
    if (!wave.contains("slo")) continue;
    for (const auto& c : wave["slo"].value("checks", json::array())) {
      w.Sample("fwcanary_slo_met",
               {{"wave", std::to_string(wave.value("wave", 0))}, {"node", ModelString(c, "node")},
                {"phase", ModelString(c, "phase")}, {"class", ModelString(c, "class")},
                {"metric", ModelString(c, "metric")}},
               ModelString(c, "verdict") == "PASS");
    }
  }
  // The knee of each client's ramp, before and after: the nightly trend of headroom.
  w.Family("fwcanary_headroom_knee_ratio", "gauge",
           "the highest ramp step (multiple of the steady rate) a client kept up with; a lower bound when it kept up at every step");
  auto knee = [&](const std::string& wave, const json& n, const char* when) {
    const json& k = n.contains(when) ? n[when] : json();
    if (!k.is_object() || !k.contains("knee")) return;
    w.Sample("fwcanary_headroom_knee_ratio",
             {{"wave", wave}, {"node", ModelString(n, "node")}, {"role", ModelString(n, "role")}, {"when", when}},
             k["knee"].is_number() ? k["knee"].get<double>() : 0.0);
  };
  if (model.contains("headroom_baseline") && model["headroom_baseline"].is_object()) {
    for (const auto& n : model["headroom_baseline"].value("nodes", json::array())) knee("baseline", n, "before");
  }
  for (const auto& wave : model["waves"]) {
    if (!wave.contains("headroom")) continue;
    for (const auto& n : wave["headroom"].value("nodes", json::array())) {
      knee(std::to_string(wave.value("wave", 0)), n, "after");
    }
  }
  // The canary's absolute figures per wave, phase and class: what a trend chart plots.
  w.Family("fwcanary_canary_throughput_ops", "gauge", "operations per second per canary client after the upgrade");
  std::string p;
  for (const auto& win : model["windows"]) {
    if (ModelString(win, "kind") != "after") continue;
    for (const auto& f : win["figures"]) {
      if (ModelString(f, "role") != "canary") continue;
      w.Sample("fwcanary_canary_throughput_ops",
               {{"wave", std::to_string(win.value("wave", 0))},
                {"phase", ModelString(f, "phase")},
                {"class", ModelString(f, "class")}},
               f.value("throughput", 0.0));
    }
  }
  for (const char* q : {"p50_ms", "p99_ms", "p999_ms"}) {
    std::string name = std::string("fwcanary_canary_latency_") + std::string(q).substr(0, std::string(q).size() - 3) +
                       "_seconds";
    w.Family(name, "gauge", std::string(q).substr(0, std::string(q).size() - 3) + " latency of the canary after the upgrade");
    for (const auto& win : model["windows"]) {
      if (ModelString(win, "kind") != "after") continue;
      for (const auto& f : win["figures"]) {
        if (ModelString(f, "role") != "canary") continue;
        w.Sample(name,
                 {{"wave", std::to_string(win.value("wave", 0))},
                  {"phase", ModelString(f, "phase")},
                  {"class", ModelString(f, "class")}},
                 f.value(q, 0.0) / 1000.0);
      }
    }
  }
  // The judge's effect per metric (ratio metrics as a fraction: +0.24 is 24% worse or better).
  w.Family("fwcanary_effect_vs_baseline", "gauge", "judged change of a metric against the baseline");
  for (const auto& wave : model["waves"]) {
    if (!wave["judge"].is_object()) continue;
    for (const auto& m : wave["judge"].value("metrics", json::array())) {
      if (!m["vs_baseline"].is_object()) continue;
      w.Sample("fwcanary_effect_vs_baseline",
               {{"wave", std::to_string(wave.value("wave", 0))},
                {"node", ModelString(m, "node")},
                {"phase", ModelString(m, "phase")},
                {"class", ModelString(m, "class")},
                {"metric", ModelString(m, "metric")},
                {"verdict", ModelString(m, "verdict")}},
               m["vs_baseline"].value("effect", 0.0));
    }
  }
  double lost = 0;
  for (const auto& win : model["windows"]) {
    for (const auto& n : win["nodes"]) {
      if (n.contains("integrity")) lost += static_cast<double>(n["integrity"]["lost"].size() + n["integrity"]["corrupt"].size());
    }
  }
  w.Family("fwcanary_messages_lost_or_corrupt", "gauge", "messages lost or corrupt in the last run (must be 0)");
  w.Sample("fwcanary_messages_lost_or_corrupt", {}, lost);
  return w.Done();
}

}  // namespace fwcanary::reports
