#include "reports/junit.h"

#include <cstdio>
#include <vector>

#include "reports/run_model.h"
#include "reports/xml_text.h"
#include "rundir/run_layout.h"

namespace fwcanary::reports {
namespace {

using nlohmann::json;

struct Case {
  std::string name, classname;
  std::string outcome;  // "", "failure", "error", "skipped"
  std::string message, body;
  double seconds = 0;
};

std::string Suite(const std::string& name, const std::vector<Case>& cases, double seconds) {
  int failures = 0, errors = 0, skipped = 0;
  for (const auto& c : cases) {
    failures += c.outcome == "failure";
    errors += c.outcome == "error";
    skipped += c.outcome == "skipped";
  }
  char head[256];
  std::snprintf(head, sizeof head, "\" tests=\"%zu\" failures=\"%d\" errors=\"%d\" skipped=\"%d\" time=\"%.3f\">\n",
                cases.size(), failures, errors, skipped, seconds);
  std::string out = "  <testsuite name=\"" + XmlEscape(name) + head;
  for (const auto& c : cases) {
    char t[32];
    std::snprintf(t, sizeof t, "%.3f", c.seconds);
    out += "    <testcase name=\"" + XmlEscape(c.name) + "\" classname=\"" + XmlEscape(c.classname) +
           "\" time=\"" + t + "\"";
    if (c.outcome.empty()) {
      out += "/>\n";
      continue;
    }
    out += ">\n      <" + c.outcome + " message=\"" + XmlEscape(c.message) + "\"";
    if (c.outcome != "skipped") out += " type=\"" + std::string(c.outcome == "error" ? "error" : "regression") + "\"";
    out += c.body.empty() ? "/>\n" : ">" + XmlEscape(c.body) + "</" + c.outcome + ">\n";
    out += "    </testcase>\n";
  }
  return out + "  </testsuite>\n";
}

}  // namespace

std::string RenderJUnit(const json& model) {
  const json& run = model["run"];
  const std::string scenario =
      ModelString(run, "scenario").empty() ? "run" : ModelString(run, "scenario");
  std::string suites;
  int tests = 0, failures = 0, errors = 0, skipped = 0;
  auto add = [&](const std::string& name, const std::vector<Case>& cases, double seconds) {
    suites += Suite(name, cases, seconds);
    for (const auto& c : cases) {
      ++tests;
      failures += c.outcome == "failure";
      errors += c.outcome == "error";
      skipped += c.outcome == "skipped";
    }
  };
  for (const auto& wave : model["waves"]) {
    int n = wave.value("wave", 0);
    const std::string suite = rundir::WaveName(n);
    const std::string cls = "fwcanary." + scenario + "." + suite;
    std::vector<Case> cases;
    for (const auto& f : wave.value("failures", json::array())) {
      std::string text = f.get<std::string>();
      cases.push_back({"activation: " + text.substr(0, text.find('\n')), cls, "failure", text.substr(0, text.find('\n')),
                       text});
    }
    if (wave.contains("upgrade")) {  // the upgrade window: its own testcase
      const json& up = wave["upgrade"];
      std::string v = ModelString(up, "verdict");
      cases.push_back({suite + " upgrade window", cls, v == "FAIL" ? "failure" : v == "INCONCLUSIVE" ? "skipped" : "",
                       ModelString(up, "reason"), ""});
    }
    if (wave.contains("slo")) {  // the service levels: one testcase per check
      for (const auto& c : wave["slo"].value("checks", json::array())) {
        std::string v = ModelString(c, "verdict");
        cases.push_back({"service level: " + ModelString(c, "node") + " " + ModelString(c, "phase") + " " +
                             ModelString(c, "class") + " " + ModelString(c, "metric"),
                         cls, v == "FAIL" ? "failure" : v == "INCONCLUSIVE" ? "skipped" : "", ModelString(c, "sentence"),
                         ""});
      }
    }
    if (wave.contains("headroom")) {  // headroom: one testcase per upgraded client
      for (const auto& hn : wave["headroom"].value("nodes", json::array())) {
        if (ModelString(hn, "role") != "candidate") continue;
        std::string v = ModelString(hn, "verdict");
        cases.push_back({"headroom: " + ModelString(hn, "node"), cls,
                         v == "FAIL" ? "failure" : v == "INCONCLUSIVE" ? "skipped" : "", ModelString(hn, "sentence"), ""});
      }
    }
    const json& judge = wave["judge"];
    if (judge.is_object()) {
      for (const auto& m : judge.value("metrics", json::array())) {
        Case c;
        std::string klass = ModelString(m, "class");
        c.name = ModelString(m, "node") + " " + ModelString(m, "phase") + " " +
                 (klass.empty() ? "" : klass + " ") + ModelString(m, "metric");
        c.classname = cls;
        std::string v = ModelString(m, "verdict");
        if (v == "FAIL") c.outcome = "failure";
        if (v == "INCONCLUSIVE") c.outcome = "skipped";
        c.message = ModelString(m, "sentence");
        cases.push_back(c);
      }
      for (const auto& i : judge.value("integrity", json::array())) {
        cases.push_back({"integrity: " + i.get<std::string>(), cls, "failure", i.get<std::string>(), ""});
      }
    }
    if (cases.empty()) {
      // A wave that stopped before its judge: say so rather than report nothing.
      cases.push_back(
          {"wave " + std::to_string(n), cls, "error",
           ModelString(wave, "reason").empty() ? "not judged" : ModelString(wave, "reason"), ""});
    }
    add(suite, cases, 0);
  }
  const std::string verdict = ModelString(run, "verdict");
  if (verdict == "ERROR" || verdict == "INCOMPLETE") {
    add("run",
        {{"rollout", "fwcanary." + scenario + ".run", "error",
          verdict + ": " + ModelString(run, "reason"), ""}},
        run.value("duration_s", 0.0));
  }
  char head[256];
  std::snprintf(head, sizeof head, "\" tests=\"%d\" failures=\"%d\" errors=\"%d\" skipped=\"%d\" time=\"%.3f\">\n",
                tests, failures, errors, skipped, run.value("duration_s", 0.0));
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"fwcanary " +
         XmlEscape(scenario) + " " + XmlEscape(ModelString(run, "version")) + head + suites +
         "</testsuites>\n";
}

}  // namespace fwcanary::reports
