// The report renderers on synthetic models: escaping of hostile names in every form, axis
// ticks, and the history's trend marks (the recorded-run tests are in
// tests/integration/report_test.cc).
#include <cmath>
#include <string>

#include <optional>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "reports/history.h"
#include "reports/html_report.h"
#include "reports/junit.h"
#include "reports/markdown.h"
#include "reports/openmetrics.h"
#include "reports/svg_chart.h"
#include "reports/xml_text.h"
#include "tests/unit/scratch.h"

namespace fwcanary::reports {
namespace {

using nlohmann::json;

// A minimal model of a finished run with one judged wave; `node` names everything.
json Model(const std::string& node, const std::string& verdict, int exit_code, double canary_p99, double started) {
  json metric = {{"node", node},          {"phase", "surge"},   {"class", "deliver"},
                 {"metric", "p99"},       {"critical", true},   {"verdict", verdict},
                 {"sentence", "p99 x3 <worse> & \"slower\" on " + node},
                 {"vs_baseline", {{"effect", 2.0}}}, {"vs_control", nullptr}};
  json figures = json::array({{{"role", "canary"}, {"phase", "surge"}, {"class", "deliver"}, {"nodes", 1},
                               {"count", 100}, {"errors", 0}, {"refused", 0}, {"throughput", 50.0},
                               {"p50_ms", 1.0}, {"p99_ms", canary_p99}, {"p999_ms", canary_p99 * 2},
                               {"cdf_ms", json::array({{1.0, 0.5}, {canary_p99, 0.99}})}}});
  return {{"report_version", 1},
          {"tool_version", "test"},
          {"run", {{"id", "run-" + std::to_string(static_cast<int>(started))}, {"scenario", "night\"ly"},
                   {"scenario_path", "/s.yaml"}, {"image", "fw<2>"}, {"version", "2.0\n"}, {"status", "finished"},
                   {"started", started}, {"duration_s", 100.0}, {"verdict", verdict == "FAIL" ? "FAIL" : "PASS"},
                   {"exit_code", exit_code}, {"reason", "because <b>"}, {"resumed", false}, {"plan", "plan & more"}}},
          {"nodes", json::array({{{"name", node}, {"roles", {"target", "client"}}, {"state", "active"},
                                  {"timeline", json::array({{{"t", started + 1}, {"state", "ready"}, {"detail", "x"}}})}}})},
          {"steps", json::array({{{"name", "baseline"}, {"started", started}, {"done", started + 10}}})},
          {"waves", json::array({{{"wave", 1}, {"nodes", {node}}, {"controls", json::array()}, {"verdict", verdict},
                                  {"reason", "r"}, {"failures", json::array()}, {"rolled_back", nullptr},
                                  {"judge", {{"judge_version", 1}, {"verdict", verdict}, {"score", 90}, {"reason", "r"},
                                             {"metrics", {metric}}, {"integrity", json::array()}, {"notes", json::array()}}}}})},
          {"windows", json::array({{{"name", "wave1.after"}, {"kind", "after"}, {"wave", 1}, {"started", started},
                                    {"done", started + 10}, {"phases", json::array()},
                                    {"nodes", json::array({{{"node", node}, {"role", "canary"}, {"file", "samples/x.jsonl"},
                                                            {"status", "ok"}}})},
                                    {"series", json::array({{{"role", "canary"}, {"class", "deliver"}, {"t", {1, 2}},
                                                             {"throughput", {5, 6}}, {"p99_ms", {1.0, nullptr}},
                                                             {"errors", {0, 0}}}})},
                                    {"queue", json::array()}, {"figures", figures}}})},
          {"drift", json::array()},
          {"events", json::array()}};
}

TEST_CASE("reports: hostile names are escaped in JUnit, HTML, Markdown and OpenMetrics") {
  const std::string node = "n\"<&>'|x";
  json m = Model(node, "FAIL", 1, 30, 1000);
  std::string junit = RenderJUnit(m);
  CHECK(junit.find(node) == std::string::npos);
  CHECK(junit.find("n&quot;&lt;&amp;&gt;&#39;|x") != std::string::npos);
  CHECK(junit.find("tests=\"1\" failures=\"1\"") != std::string::npos);
  std::string html = RenderHtml(m);
  CHECK(html.find("<b>") == std::string::npos);
  CHECK(html.find("because &lt;b&gt;") != std::string::npos);
  CHECK(html.find(node) == std::string::npos);
  std::string md = RenderMarkdown(m);
  CHECK(md.find("n\"<&>'\\|x") != std::string::npos);  // a pipe would split the table cell
  std::string prom = RenderOpenMetrics(m);
  CHECK(prom.find("scenario=\"night\\\"ly\",version=\"2.0\\n\"") != std::string::npos);
  CHECK(prom.find("node=\"n\\\"<&>'|x\"") != std::string::npos);
  // A control character that XML 1.0 forbids never reaches the XML.
  CHECK(XmlEscape(std::string("a\x01" "b")) == "a\xEF\xBF\xBD" "b");
}

TEST_CASE("reports: a wave's stalls are listed in HTML and Markdown, even on a PASS") {
  json m = Model("node-1", "PASS", 0, 3, 1000);
  m["waves"][0]["judge"]["stalls"] = {
      "candidate node-1: I/O stalled 2 s at t=475 s (latency x23) in the surge window; latency "
      "judged without it <now>"};
  std::string html = RenderHtml(m);
  CHECK(html.find("stall: candidate node-1: I/O stalled 2 s at t=475 s") != std::string::npos);
  CHECK(html.find("&lt;now&gt;") != std::string::npos);
  std::string md = RenderMarkdown(m);
  CHECK(md.find("### Stalls\n- wave 1: candidate node-1: I/O stalled 2 s") != std::string::npos);
  // A verdict without the field (older run directories) renders as before.
  json old = Model("node-1", "PASS", 0, 3, 1000);
  CHECK(RenderMarkdown(old).find("### Stalls") == std::string::npos);
}

TEST_CASE("reports: axis ticks are round numbers that cover the range") {
  CHECK(NiceTicks(0, 10, false) == std::vector<double>{0, 2, 4, 6, 8, 10});
  CHECK(NiceTicks(0.3, 870, true) == std::vector<double>{1, 10, 100});
  std::vector<double> t = NiceTicks(0, 0.037, false);
  REQUIRE(t.size() >= 3);
  CHECK(t.front() == 0);
  CHECK(t.back() <= 0.037 + 1e-12);
  CHECK(ShortNumber(1500) == "1.5k");
  CHECK(ShortNumber(0.25) == "0.25");
  // A chart with no usable value says so instead of drawing an empty frame.
  ChartSpec empty{"t", "x", "y", false, true, {{"l", "#000", {1, 2}, {0, -1}}}, {}, {}};
  CHECK(RenderLineChart(empty).find("no data") != std::string::npos);
}

TEST_CASE("history: a run worse than the median of the passing runs before it is marked") {
  testing::Scratch d;
  const std::string db = d.path + "/h.db";
  REQUIRE(RecordRun(db, Model("node-1", "PASS", 0, 10, 1000), d.path).ok());
  REQUIRE(RecordRun(db, Model("node-1", "PASS", 0, 11, 2000), d.path).ok());
  REQUIRE(RecordRun(db, Model("node-1", "FAIL", 1, 30, 3000), d.path).ok());
  auto text = RenderHistory(db, HistoryQuery{});
  REQUIRE(text.ok());
  INFO(text.value());
  CHECK(text->find("scenario night\"ly: 3 run(s)") != std::string::npos);
  std::size_t at = text->find("surge deliver p99 ms");
  REQUIRE(at != std::string::npos);
  std::string line = text->substr(at, text->find('\n', at) - at);
  CHECK(line.find("#1 10 ") != std::string::npos);
  CHECK(line.find("#2 11 ") != std::string::npos);  // +10%: within the 20% band
  CHECK(line.find("#3 30!") != std::string::npos);
  // --last 2 keeps the newest two.
  auto last = RenderHistory(db, HistoryQuery{"", 2});
  REQUIRE(last.ok());
  CHECK(last->find("2 run(s)") != std::string::npos);
  // No history file: a clear error naming it.
  auto missing = RenderHistory(d.path + "/none.db", HistoryQuery{});
  CHECK(!missing.ok());
  CHECK(missing.status().message().find(d.path + "/none.db") != std::string::npos);
}

// A wave's headroom (harness/judge/headroom.h) as the model carries it: the canary's knee after
// the upgrade, `after` (null: not even the first step), against 4x before.
json WithHeadroom(json m, std::optional<double> after, const std::string& verdict) {
  auto knees = [](std::optional<double> k, const std::string& text) {
    json j = {{"knee", k ? json(*k) : json(nullptr)}, {"next", nullptr}, {"served", 4}, {"how", "h"}, {"text", text},
              {"base_rate", 30}, {"classes", {{"retrieve", {{"text", "retrieve keeps " + text}}}}}};
    j["steps"] = json::array({{{"multiplier", 1}, {"offered", 30}, {"achieved", 30}, {"kept_up", true}, {"why", ""},
                               {"p99_us", {{"deliver", 15000}, {"retrieve", 4000}}}},
                              {{"multiplier", 2}, {"offered", 60}, {"achieved", 59}, {"kept_up", true}, {"why", ""},
                               {"p99_us", {{"deliver", 90000}}}}});
    return j;
  };
  const std::string text = after ? std::to_string(static_cast<int>(*after)) + "x" : "below 1x";
  m["waves"][0]["headroom"] = {
      {"window", "wave1"}, {"required", 3}, {"control_change", 1}, {"verdict", verdict}, {"reason", "r <x>"},
      {"nodes", json::array({{{"node", "node-1"}, {"role", "candidate"}, {"before", knees(4, "at least 4x")},
                              {"after", knees(after, text)}, {"change", 0.5}, {"verdict", verdict},
                              {"sentence", "node-1 keeps up to " + text + " <b>"}}})}};
  return m;
}

TEST_CASE("reports: headroom in every report, and its trend in the history") {
  json m = WithHeadroom(Model("node-1", "FAIL", 1, 30, 1000), 2, "FAIL");
  CHECK(RenderMarkdown(m).find("### Headroom\n- wave 1: FAIL; node-1 keeps up to 2x <b>") != std::string::npos);
  CHECK(RenderJUnit(m).find("name=\"headroom: node-1\"") != std::string::npos);
  const std::string prom = RenderOpenMetrics(m);
  CHECK(prom.find("fwcanary_headroom_knee_ratio{") != std::string::npos);
  CHECK(prom.find(",node=\"node-1\",role=\"candidate\",wave=\"1\",when=\"after\"} 2\n") != std::string::npos);
  const std::string html = RenderHtml(m);
  CHECK(html.find("Headroom: the load each client keeps up with") != std::string::npos);
  CHECK(html.find("node-1: served vs offered per ramp step") != std::string::npos);
  // p99 per step and class, before and after; each class's knee in a table of its own.
  CHECK(html.find("node-1: p99 per ramp step, by class (ms)") != std::string::npos);
  CHECK(html.find("deliver after") != std::string::npos);
  CHECK(html.find("retrieve before") != std::string::npos);
  CHECK(html.find("<td>retrieve</td><td class=num>retrieve keeps at least 4x</td><td class=num>retrieve keeps 2x</td>") !=
        std::string::npos);
  CHECK(html.find("&lt;b&gt;") != std::string::npos);  // the sentence escaped
  CHECK(html.find(" <b>") == std::string::npos);

  testing::Scratch d;
  const std::string db = d.path + "/h.db";
  REQUIRE(RecordRun(db, WithHeadroom(Model("node-1", "PASS", 0, 10, 1000), 4, "PASS"), d.path).ok());
  REQUIRE(RecordRun(db, WithHeadroom(Model("node-1", "PASS", 0, 10, 2000), 4, "PASS"), d.path).ok());
  REQUIRE(RecordRun(db, WithHeadroom(Model("node-1", "FAIL", 1, 10, 3000), 2, "FAIL"), d.path).ok());
  REQUIRE(RecordRun(db, WithHeadroom(Model("node-1", "FAIL", 1, 10, 4000), std::nullopt, "FAIL"), d.path).ok());
  auto text = RenderHistory(db, HistoryQuery{});
  REQUIRE(text.ok());
  INFO(text.value());
  std::size_t at = text->find("headroom of the canary (wave 1)");
  REQUIRE(at != std::string::npos);
  std::string line = text->substr(text->find('\n', at) + 1);
  line = line.substr(0, line.find('\n'));
  CHECK(line.find("#1 4x ") != std::string::npos);
  CHECK(line.find("#3 2x!") != std::string::npos);
  CHECK(line.find("#4 below 1x!") != std::string::npos);
}

}  // namespace
}  // namespace fwcanary::reports
