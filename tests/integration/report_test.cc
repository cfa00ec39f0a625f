// Reports through the real path: `fwcanary report` renders a recorded run directory (a real
// 2-node lab run of the surge-only regressed image, committed in tests/fixtures/run-2node-surge),
// then real tools read what it wrote: a JSON Schema validator (python3-jsonschema) for
// report.json, Python's XML parser for junit.xml, headless Chromium for report.html (console
// and screenshot, saved under build/test-artifacts/), and `fwcanary history` across three runs.
#include <filesystem>
#include <fstream>
#include <sstream>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "common/sqlite_db.h"
#include "tests/integration/agent_runner.h"
#include "tests/integration/command.h"

namespace fwcanary::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const char kPython[] = "/usr/bin/python3";

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The fixture copied to `dir` (the tests write into it; the source tree stays clean).
std::string CopyFixture(const std::string& dir, const std::string& name = "20261122-212216-demo") {
  std::string run = dir + "/" + name;
  fs::copy(FWCANARY_FIXTURES "/run-2node-surge", run, fs::copy_options::recursive);
  return run;
}

CommandResult Report(const std::string& run, const std::vector<std::string>& extra = {"--no-history"}) {
  std::vector<std::string> argv = {FWCANARY_BIN, "report", run};
  argv.insert(argv.end(), extra.begin(), extra.end());
  return RunCommand(argv);
}

TEST_CASE("report: a recorded run renders every form, and report.json is valid against its schema") {
  ScratchDir d;
  std::string run = CopyFixture(d.path);
  CommandResult r = Report(run);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  for (const char* f : {"report.json", "junit.xml", "report.html", "summary.md", "metrics.prom"}) {
    INFO(f);
    CHECK(fs::file_size(run + "/" + f) > 500);
    CHECK(r.out.find(f) != std::string::npos);
  }
  CommandResult v = RunCommand({kPython, "-c",
                                "import json,sys,jsonschema\n"
                                "s=json.load(open(sys.argv[1])); r=json.load(open(sys.argv[2]))\n"
                                "jsonschema.Draft202012Validator.check_schema(s)\n"
                                "jsonschema.Draft202012Validator(s).validate(r)\n"
                                "print('valid')\n",
                                FWCANARY_REPORT_SCHEMA, run + "/report.json"});
  INFO(v.out << v.err);
  CHECK(v.exit_code == 0);
  // The schema is not a rubber stamp: a report with a wrong verdict is refused.
  json bad = json::parse(Slurp(run + "/report.json"));
  bad["run"]["verdict"] = "MAYBE";
  std::ofstream(d.path + "/bad.json") << bad.dump();
  CommandResult refused = RunCommand({kPython, "-c",
                                      "import json,sys,jsonschema\n"
                                      "jsonschema.validate(json.load(open(sys.argv[2])), json.load(open(sys.argv[1])))\n",
                                      FWCANARY_REPORT_SCHEMA, d.path + "/bad.json"});
  CHECK(refused.exit_code != 0);
  CHECK(refused.err.find("MAYBE") != std::string::npos);

  // What the model says about this run: the lab's canary, its control, three windows, the
  // rollback, and no mail lost.
  json m = json::parse(Slurp(run + "/report.json"));
  CHECK(m["report_version"] == 1);
  CHECK(m["run"]["id"] == "20261122-212216-demo");
  CHECK(m["run"]["verdict"] == "INCONCLUSIVE");
  CHECK(m["run"]["exit_code"] == 3);
  REQUIRE(m["waves"].size() == 1);
  CHECK(m["waves"][0]["nodes"] == json::array({"node-1"}));
  CHECK(m["waves"][0]["controls"] == json::array({"node-2"}));
  CHECK(m["waves"][0]["rolled_back"] == true);
  REQUIRE(m["windows"].size() == 3);
  CHECK(m["windows"][0]["kind"] == "baseline");
  CHECK(m["windows"][1]["kind"] == "during");
  CHECK(m["windows"][2]["kind"] == "after");
  std::map<std::string, std::string> roles;
  for (const auto& n : m["windows"][2]["nodes"]) roles[n["node"]] = n["role"];
  CHECK(roles["node-1"] == "canary");
  CHECK(roles["node-2"] == "control");
  // The canary's surge p99 is many times the baseline's: the regression shows in the figures.
  double base_p99 = 0, canary_p99 = 0;
  for (const auto& f : m["windows"][0]["figures"]) {
    if (f["phase"] == "surge" && f["class"] == "deliver") base_p99 = f["p99_ms"];
  }
  for (const auto& f : m["windows"][2]["figures"]) {
    if (f["phase"] == "surge" && f["class"] == "deliver" && f["role"] == "canary") canary_p99 = f["p99_ms"];
  }
  CHECK(base_p99 > 0);
  CHECK(canary_p99 > 5 * base_p99);
  // node-1's timeline: ready, flashed, active, rollback sent, rolled back.
  std::vector<std::string> states;
  for (const auto& e : m["nodes"][0]["timeline"]) states.push_back(e["state"]);
  CHECK(states == std::vector<std::string>{"ready", "flash_sent", "active", "rollback_sent", "rolled_back"});
  for (const auto& w : m["windows"]) {
    for (const auto& n : w["nodes"]) {
      CHECK(n["integrity"]["lost"].empty());
      CHECK(n["integrity"]["corrupt"].empty());
    }
  }
  // summary.md and metrics.prom carry the same verdict.
  std::string md = Slurp(run + "/summary.md");
  CHECK(md.find("NO-GO") != std::string::npos);
  CHECK(md.find("**INCONCLUSIVE**") != std::string::npos);
  CHECK(md.find("Every accepted message was accounted for") != std::string::npos);
  std::string prom = Slurp(run + "/metrics.prom");
  CHECK(prom.find("fwcanary_run_exit_code{scenario=\"demo\",version=\"2.0-surge-collapse\"} 3\n") != std::string::npos);
  CHECK(prom.substr(prom.size() - 6) == "# EOF\n");
  // Rendering twice gives the same bytes (nothing depends on when it was rendered).
  std::string first = Slurp(run + "/report.html");
  REQUIRE(Report(run).exit_code == 0);
  CHECK(Slurp(run + "/report.html") == first);
}

TEST_CASE("report: junit.xml parses with a real XML parser, one testcase per wave x node x metric") {
  ScratchDir d;
  std::string run = CopyFixture(d.path);
  REQUIRE(Report(run).exit_code == 0);
  CommandResult x = RunCommand({kPython, "-c",
                                "import sys, json, xml.etree.ElementTree as E\n"
                                "root = E.parse(sys.argv[1]).getroot()\n"
                                "cases = root.findall('./testsuite/testcase')\n"
                                "print(json.dumps({'tag': root.tag, 'suites': len(root.findall('testsuite')),\n"
                                " 'tests': int(root.get('tests')), 'failures': int(root.get('failures')),\n"
                                " 'skipped': int(root.get('skipped')), 'errors': int(root.get('errors')),\n"
                                " 'cases': len(cases), 'failed': sum(1 for c in cases if c.find('failure') is not None),\n"
                                " 'skipped_cases': sum(1 for c in cases if c.find('skipped') is not None),\n"
                                " 'first_failure': next((c.get('name') + ': ' + c.find('failure').get('message')\n"
                                "   for c in cases if c.find('failure') is not None), '')}))\n",
                                run + "/junit.xml"});
  INFO(x.out << x.err);
  REQUIRE(x.exit_code == 0);
  json j = json::parse(x.out);
  json verdict = json::parse(Slurp(run + "/verdict-wave1.json"));
  int fails = 0, inconclusive = 0;
  for (const auto& m : verdict["metrics"]) {
    fails += m["verdict"] == "FAIL";
    inconclusive += m["verdict"] == "INCONCLUSIVE";
  }
  CHECK(j["tag"] == "testsuites");
  CHECK(j["suites"] == 1);
  CHECK(j["cases"] == verdict["metrics"].size());
  CHECK(j["tests"] == verdict["metrics"].size());
  CHECK(j["failures"] == fails);
  CHECK(j["failed"] == fails);
  CHECK(j["skipped"] == inconclusive);
  CHECK(j["skipped_cases"] == inconclusive);
  CHECK(j["errors"] == 0);
  CHECK(fails > 0);
  // The failure carries the evidence sentence.
  CHECK(j["first_failure"].get<std::string>().find("vs baseline") != std::string::npos);
}

// Console messages headless Chromium logged while loading `url` (INFO:CONSOLE lines).
std::vector<std::string> ConsoleLines(const std::string& url, const std::string& screenshot = "") {
  std::vector<std::string> argv = {"chromium", "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                                   "--enable-logging=stderr", "--v=0", "--window-size=1100,4000"};
  argv.push_back(screenshot.empty() ? "--dump-dom" : "--screenshot=" + screenshot);
  argv.push_back(url);
  CommandOptions o;
  o.timeout_s = 120;
  CommandResult r = RunCommand(argv, o);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  std::vector<std::string> lines;
  std::istringstream in(r.err);
  for (std::string l; std::getline(in, l);) {
    if (l.find(":CONSOLE") != std::string::npos) lines.push_back(l);
  }
  return lines;
}

TEST_CASE("report: report.html loads in headless Chromium with no console message and the screenshot shows the plots") {
  ScratchDir d;
  std::string run = CopyFixture(d.path);
  REQUIRE(Report(run).exit_code == 0);
  std::string html = Slurp(run + "/report.html");
  // Self-contained: nothing to fetch (the SVG namespace is a name, not a fetch).
  for (const char* ref : {"src=", "href=", "url(", "@import", "<link", "<script"}) {
    INFO(ref);
    CHECK(html.find(ref) == std::string::npos);
  }
  CHECK(html.find("<svg") != std::string::npos);

  // The detector works: a page that logs an error is caught.
  std::ofstream(d.path + "/noisy.html") << "<html><body><script>console.error('boom')</script></body></html>";
  CHECK(ConsoleLines("file://" + d.path + "/noisy.html").size() == 1);

  fs::create_directories(FWCANARY_ARTIFACTS);
  const std::string shot = FWCANARY_ARTIFACTS "/report-screenshot.png";
  fs::remove(shot);
  std::vector<std::string> console = ConsoleLines("file://" + run + "/report.html", shot);
  CHECK(console.empty());
  REQUIRE(fs::exists(shot));
  // The screenshot shows the plots: pixels in the canary's red, the control's blue and the
  // baseline's grey lines (colours only the charts use), and the verdict badge's orange.
  CommandResult px = RunCommand({kPython, "-c",
                                 "import sys, json\n"
                                 "from PIL import Image\n"
                                 "im = Image.open(sys.argv[1]).convert('RGB')\n"
                                 "want = {'canary': (0xd6,0x27,0x28), 'control': (0x1f,0x77,0xb4), 'inconclusive': (0xff,0x7f,0x0e)}\n"
                                 "n = {k: 0 for k in want}\n"
                                 "for p in im.getdata():\n"
                                 "  for k, c in want.items():\n"
                                 "    if all(abs(a-b) < 24 for a, b in zip(p, c)): n[k] += 1\n"
                                 "n['size'] = im.size\n"
                                 "print(json.dumps(n))\n",
                                 shot});
  INFO(px.out << px.err);
  REQUIRE(px.exit_code == 0);
  json n = json::parse(px.out);
  CHECK(n["size"][0] == 1100);
  CHECK(n["canary"] > 500);
  CHECK(n["control"] > 500);
  CHECK(n["inconclusive"] > 100);
}

TEST_CASE("history: three nightly runs, trends per metric, and a baseline from the passing ones") {
  ScratchDir d;
  const std::string db = d.path + "/history.db";
  // Three nights of the same scenario: builds b1 and b2 pass, b3 is the fixture's own
  // INCONCLUSIVE. Each copy is moved a day later and given its build's version.
  std::vector<std::string> runs;
  for (int night = 0; night < 3; ++night) {
    std::string run = CopyFixture(d.path, "night-" + std::to_string(night + 1));
    auto j = SqliteDb::Open(run + "/journal.db", false, "");
    REQUIRE(j.ok());
    SqliteDb& jdb = *j.value();
    REQUIRE(jdb.Exec("UPDATE events SET t = t + ?", {std::to_string(86400 * night)}).ok());
    REQUIRE(jdb.Exec("UPDATE facts SET value = ? WHERE key = 'version'", {"2.0-b" + std::to_string(night + 1)}).ok());
    if (night < 2) {
      REQUIRE(jdb.Exec("UPDATE facts SET value = '0' WHERE key = 'exit_code'").ok());
      REQUIRE(jdb.Exec("UPDATE facts SET value = 'every wave passed' WHERE key = 'reason'").ok());
    }
    CommandResult r = Report(run, {"--history", db});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    runs.push_back(run);
  }
  // Re-rendering a run replaces its history rows; it does not add a fourth run.
  REQUIRE(Report(runs[2], {"--history", db}).exit_code == 0);

  CommandResult h = RunCommand({FWCANARY_BIN, "history", "--db", db});
  INFO(h.out << h.err);
  REQUIRE(h.exit_code == 0);
  CHECK(h.out.find("scenario demo: 3 run(s)") != std::string::npos);
  for (const char* v : {"2.0-b1", "2.0-b2", "2.0-b3"}) CHECK(h.out.find(v) != std::string::npos);
  CHECK(h.out.find("INCONCLUSIVE") != std::string::npos);
  // The trend line of the canary's surge p99 lists the three runs.
  std::size_t at = h.out.find("surge deliver p99 ms");
  REQUIRE(at != std::string::npos);
  std::string line = h.out.substr(at, h.out.find('\n', at) - at);
  CHECK(line.find("#1") != std::string::npos);
  CHECK(line.find("#3") != std::string::npos);

  // The last two passing runs as a baseline: their canary samples, newest first.
  CommandResult p = RunCommand({FWCANARY_BIN, "history", "--db", db, "--scenario", "demo", "--passing-samples", "2"});
  INFO(p.err);
  REQUIRE(p.exit_code == 0);
  CHECK(p.out == runs[1] + "/samples/wave1-node-1.jsonl\n" + runs[0] + "/samples/wave1-node-1.jsonl\n");
  // ... which compare takes: the same canary samples judged against themselves find nothing worse.
  CommandResult c = RunCommand({FWCANARY_BIN, "compare", "--history", db, "--history-scenario", "demo", "--history-runs",
                                "1", "--candidate", runs[2] + "/samples/wave1-node-1.jsonl"});
  INFO(c.out << c.err);
  CHECK(c.err.find("baseline from 1 sample file(s)") != std::string::npos);
  CHECK(c.out.find("FAIL ") == std::string::npos);
  CHECK((c.exit_code == 0 || c.exit_code == 3));
  // A scenario with no passing run says so.
  CommandResult none = RunCommand({FWCANARY_BIN, "history", "--db", db, "--scenario", "nightly", "--passing-samples", "1"});
  CHECK(none.exit_code == 2);
  CHECK(none.err.find("no passing run of scenario 'nightly'") != std::string::npos);
}

TEST_CASE("report: a directory without a journal is refused with its name", "[bad-input]") {
  ScratchDir d;
  CommandResult r = Report(d.path);
  CHECK(r.exit_code == 2);
  CHECK(r.err.find(d.path + "/journal.db") != std::string::npos);
}

}  // namespace
}  // namespace fwcanary::testing
