#include "reports/markdown.h"

#include <algorithm>
#include <cstdio>
#include <vector>

#include "reports/run_model.h"

namespace fwcanary::reports {
namespace {

using nlohmann::json;

// Table cells: a pipe or a newline would break the row.
std::string Cell(std::string s) {
  for (char& c : s) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  std::string out;
  for (char c : s) {
    if (c == '|') out += "\\";
    out += c;
  }
  return out;
}

}  // namespace

std::string RenderMarkdown(const json& model) {
  const json& run = model["run"];
  const std::string verdict = ModelString(run, "verdict");
  const std::string go = verdict == "PASS" ? "GO" : verdict == "INCOMPLETE" ? "NOT FINISHED" : "NO-GO";
  const std::string version = ModelString(run, "version") == ModelString(run, "image")
                                  ? ""
                                  : " (version " + Cell(ModelString(run, "version")) + ")";
  std::string md =
      "## fwcanary: " + go + " for " + Cell(ModelString(run, "image")) + version + "\n\n";
  md += "**" + verdict + "**: " + Cell(ModelString(run, "reason")) + "\n\n";
  md += "Scenario `" + ModelString(run, "scenario") + "`, run `" + ModelString(run, "id") + "`";
  if (run["exit_code"].is_number()) md += ", exit code " + std::to_string(run["exit_code"].get<int>());
  if (run.value("resumed", false)) md += ", resumed after an interruption";
  md += ".\n\n";

  md += "| wave | nodes | verdict | reason |\n|---|---|---|---|\n";
  for (const auto& w : model["waves"]) {
    std::string nodes;
    for (const auto& n : w.value("nodes", json::array())) nodes += (nodes.empty() ? "" : ", ") + n.get<std::string>();
    md += "| " + std::to_string(w.value("wave", 0)) + (w.value("wave", 0) == 1 ? " (canary)" : "") +
          " | " + Cell(nodes) + " | " + ModelString(w, "verdict") + " | " +
          Cell(ModelString(w, "reason")) + " |\n";
  }
  if (model["waves"].empty()) md += "| - | - | - | no wave was reached |\n";

  std::vector<json> failed;
  for (const auto& w : model["waves"]) {
    if (!w["judge"].is_object()) continue;
    for (const auto& m : w["judge"].value("metrics", json::array())) {
      if (ModelString(m, "verdict") == "FAIL") failed.push_back(m);
    }
  }
  std::stable_sort(failed.begin(), failed.end(), [](const json& a, const json& b) {
    return a.value("critical", false) > b.value("critical", false);
  });
  if (!failed.empty()) {
    md += "\n### What failed\n";
    for (std::size_t i = 0; i < failed.size() && i < 10; ++i) {
      md += "- " + std::string(failed[i].value("critical", false) ? "**critical** " : "") +
            Cell(ModelString(failed[i], "sentence")) + "\n";
    }
    if (failed.size() > 10) md += "- ... and " + std::to_string(failed.size() - 10) + " more (report.html)\n";
  }
  // Short stalls are findings of their own (harness/judge/stalls.h): listed even on a PASS.
  std::string stalls;
  int stall_count = 0;
  for (const auto& w : model["waves"]) {
    if (!w["judge"].is_object()) continue;
    for (const auto& st : w["judge"].value("stalls", json::array())) {
      if (!st.is_string()) continue;
      if (stall_count++ < 10) {
        stalls += "- wave " + std::to_string(w.value("wave", 0)) + ": " + Cell(st.get<std::string>()) + "\n";
      }
    }
  }
  if (stall_count > 10) stalls += "- ... and " + std::to_string(stall_count - 10) + " more (report.html)\n";
  if (!stalls.empty()) md += "\n### Stalls\n" + stalls;
  // The upgrade window: what the clients of each wave's targets saw while they flashed.
  std::string upgrade;
  for (const auto& w : model["waves"]) {
    if (!w.contains("upgrade")) continue;
    const json& up = w["upgrade"];
    const std::string wave = std::to_string(w.value("wave", 0));
    const std::string reason = ModelString(up, "reason");
    if (!reason.empty()) {
      upgrade += "- wave " + wave + ": " + ModelString(up, "verdict") + ": " + Cell(reason) + "\n";
      continue;
    }
    double longest = 0;
    for (const auto& c : up.value("clients", json::array())) {
      if (ModelString(c, "role") == "upgraded") longest = std::max(longest, c.value("longest_stall_s", 0.0));
    }
    char line[160];
    std::snprintf(line, sizeof line, "- wave %s: PASS: longest pause of an upgraded target's client %.0f s (limit %.0f s), no errors\n",
                  wave.c_str(), longest, up["limits"].value("max_stall_s", 0.0));
    upgrade += line;
  }
  if (!upgrade.empty()) md += "\n### The upgrade window\n" + upgrade;
  // Service levels: the absolute limits, beside the relative verdict.
  std::string slo;
  auto slo_line = [&](const std::string& where, const json& s) {
    const std::string reason = ModelString(s, "reason");
    slo += "- " + where + ": " + ModelString(s, "verdict") + ": " +
           (reason.empty() ? std::to_string(s.value("checks", json::array()).size()) + " check(s) met"
                           : Cell(reason)) + "\n";
  };
  if (model.contains("slo_baseline") && model["slo_baseline"].is_object()) slo_line("baseline", model["slo_baseline"]);
  for (const auto& w : model["waves"]) {
    if (w.contains("slo")) slo_line("wave " + std::to_string(w.value("wave", 0)), w["slo"]);
  }
  if (!slo.empty()) md += "\n### Service levels\n" + slo;
  std::string headroom;
  if (model.contains("headroom_baseline") && model["headroom_baseline"].is_object()) {
    for (const auto& n : model["headroom_baseline"].value("nodes", json::array())) {
      headroom += "- baseline: " + Cell(ModelString(n, "sentence")) + "\n";
    }
  }
  for (const auto& w : model["waves"]) {
    if (!w.contains("headroom")) continue;
    headroom += "- wave " + std::to_string(w.value("wave", 0)) + ": " + ModelString(w["headroom"], "verdict");
    for (const auto& n : w["headroom"].value("nodes", json::array())) {
      if (ModelString(n, "role") == "candidate") headroom += "; " + Cell(ModelString(n, "sentence"));
    }
    headroom += "\n";
  }
  if (!headroom.empty()) md += "\n### Headroom\n" + headroom;
  std::string drift;
  for (const auto& d : model["drift"]) {
    if (d.value("changed", false))
      drift +=
          "- " + ModelString(d, "node") + ": `" + Cell(ModelString(d, "check")) + "` changed\n";
  }
  if (!drift.empty()) md += "\n### Configuration drift after the upgrade\n" + drift;
  std::string integrity;
  for (const auto& win : model["windows"]) {
    for (const auto& n : win["nodes"]) {
      if (!n.contains("integrity")) continue;
      std::size_t lost = n["integrity"]["lost"].size(), corrupt = n["integrity"]["corrupt"].size();
      if (lost + corrupt > 0) {
        integrity += "- " + ModelString(win, "name") + " " + ModelString(n, "node") + ": " +
                     std::to_string(lost) + " lost, " + std::to_string(corrupt) + " corrupt\n";
      }
    }
  }
  md += "\n### Mail integrity\n" + (integrity.empty() ? "Every accepted message was accounted for.\n" : integrity);
  md += "\nFull report: `report.html` (plots, timeline, evidence); machines: `report.json`, `junit.xml`.\n";
  return md;
}

}  // namespace fwcanary::reports
