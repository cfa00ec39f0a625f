// `fwcanary compare` through the real binaries: records written by the real agent on a real
// filesystem, fio's real JSON output, and bad input.
#include <signal.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/integration/agent_runner.h"
#include "tests/integration/command.h"

namespace fwcanary::testing {
namespace {

std::string Spec(int duration_s) {
  // Runs longer than 8 s report every 0.5 s: the judge's batch means then get ten blocks.
  std::string interval = duration_s > 8 ? R"("interval_s": 0.5, )" : "";
  return R"({"rate": 100, "duration_s": )" + std::to_string(duration_s) + ", " + interval + R"("users": 10,
    "mix": {"deliver": 0.6, "retrieve": 0.4, "scan": 0}, "size": {"dist": "fixed", "mean_bytes": 4096}})";
}

std::string RecordRun(const ScratchDir& dir, const std::string& name,
                      void (*after_start)(int) = nullptr, int duration_s = 8,
                      const std::string& node = "node-1") {
  std::vector<std::string> argv = {FWCANARY_AGENT_BIN, "--spec", "-", "--workdir",
                                   dir.path + "/" + name, "--node", node};
  CommandOptions o;
  o.stdin_text = Spec(duration_s);
  o.after_start = after_start;
  CommandResult r = RunCommand(argv, o);
  REQUIRE(r.exit_code == 0);
  std::string path = dir.path + "/" + name + ".jsonl";
  std::ofstream(path) << r.out;
  return path;
}

CommandResult Compare(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {FWCANARY_BIN, "compare"};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunCommand(argv);
}

TEST_CASE("compare: two real agent runs of the same storage are not called a regression") {
  ScratchDir dir;
  std::string a = RecordRun(dir, "a"), b = RecordRun(dir, "b");
  CommandResult r = Compare({a, b});
  INFO(r.out << r.err);
  CHECK((r.exit_code == 0 || r.exit_code == 3));  // one run per side: often INCONCLUSIVE
  CHECK(r.out.find("deliver") != std::string::npos);
  CommandResult j = Compare({a, b, "--json"});
  nlohmann::json doc = nlohmann::json::parse(j.out);
  CHECK(doc["judge_version"] == 1);
  CHECK(doc["metrics"].size() > 10);
  CHECK(doc["verdict"] != "FAIL");
}

// The agent's wait for a CPU per operation over a run (us), as the judge takes it; -1 when the
// records carry none.
double CpuDelayPerOp(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  double delay = 0, ops = 0;
  while (std::getline(in, line)) {
    nlohmann::json j = nlohmann::json::parse(line);
    if (j.value("type", "") != "interval") continue;
    if (!j.contains("cpu_run_delay_us")) return -1;
    delay += j["cpu_run_delay_us"].get<double>();
    for (const auto& [cls, st] : j["ops"].items()) ops += st.value("count", 0.0);
  }
  return ops > 0 ? delay / ops : -1;
}

TEST_CASE("compare: a run beside busy CPUs has its tails widened by the agent's wait for a CPU, not blamed on the storage") {
  ScratchDir dir;
  std::string a = RecordRun(dir, "a");
  // Three busy threads on this 2-core host while the candidate runs: the mail server's own
  // work, or the CI host's other tests (harness/judge/README.md, "A busy client host").
  std::atomic<bool> stop{false};
  std::vector<std::thread> busy;
  for (int i = 0; i < 3; ++i) {
    busy.emplace_back([&stop] {
      volatile uint64_t x = 0;
      while (!stop.load(std::memory_order_relaxed)) x = x + 1;
    });
  }
  std::string b = RecordRun(dir, "b");
  stop = true;
  for (auto& t : busy) t.join();
  const double da = CpuDelayPerOp(a), db = CpuDelayPerOp(b);
  INFO("agent's wait for a CPU per operation: baseline " << da << " us, candidate " << db << " us");
  REQUIRE(da >= 0);  // this kernel has schedstat: the agent writes the figure
  REQUIRE(db >= 0);
  // Not which side waited more: on a host already saturated (ctest beside it) three more busy
  // threads need not raise it (measured: 4.6 ms vs 4.0 ms per operation). The widening holds
  // either way.
  CommandResult j = Compare({a, b, "--json"});
  INFO(j.out << j.err);
  nlohmann::json doc = nlohmann::json::parse(j.out);
  // Both classes' p99 were widened by the difference, say by how much, and are not blamed on the
  // storage. (The overall verdict is the test above's promise: a deliver median on this VM's
  // shared disk still moves by itself, which no CPU figure explains; harness/judge/README.md.)
  int widened = 0;
  for (const auto& m : doc["metrics"]) {
    if (m["metric"] != "p99") continue;
    INFO(m["sentence"]);
    CHECK(m["verdict"] != "FAIL");
    if (m["vs_baseline"].contains("cpu_delay_per_op_us")) {
      ++widened;
      CHECK(m["vs_baseline"]["cpu_delay_per_op_us"]["candidate"].get<double>() > 0);
      CHECK(m["vs_baseline"]["cpu_delay_per_op_us"]["reference"].get<double>() > 0);
      CHECK(m["sentence"].get<std::string>().find("widened for the agent's wait for a CPU") != std::string::npos);
    }
  }
  CHECK(widened == 2);  // deliver and retrieve
}

TEST_CASE("compare: a candidate whose storage stalls FAILs with the evidence") {
  ScratchDir dir;
  // Freeze the agent for 300 ms in every second of a 14 s run, as storage that stalls
  // periodically would. With one run per side the judge must assume run-to-run noise, so a
  // few stalls in a short run are, rightly, not enough evidence at alpha 0.01.
  std::string a = RecordRun(dir, "a", nullptr, 14);
  std::string b = RecordRun(dir, "b", [](int pid) {
    std::thread([pid] {
      for (int i = 0; i < 14; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(700));
        ::kill(pid, SIGSTOP);
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        ::kill(pid, SIGCONT);
      }
    }).detach();
  }, 14);
  CommandResult r = Compare({"--baseline", a, "--candidate", b});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 1);
  CHECK(r.out.find("FAIL") != std::string::npos);
  CHECK(r.out.find("p99") != std::string::npos);
}

TEST_CASE("compare: fio JSON output is judged too") {
  std::string fio = std::string(FWCANARY_FIXTURES) + "/fio-3.33-jsonplus-status.json";
  CommandResult r = Compare({fio, fio, "--json"});
  INFO(r.out << r.err);
  REQUIRE((r.exit_code == 0 || r.exit_code == 3));
  nlohmann::json doc = nlohmann::json::parse(r.out);
  bool deliver = false;
  for (const auto& m : doc["metrics"]) deliver = deliver || m["class"] == "deliver";
  CHECK(deliver);
}

TEST_CASE("compare: bad input is an error that names the file", "[bad-input]") {
  CommandResult r = Compare({"/nonexistent/a.jsonl", "/nonexistent/b.jsonl"});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("/nonexistent/a.jsonl") != std::string::npos);
  ScratchDir dir;
  std::ofstream(dir.path + "/bad.jsonl") << "{\"type\":\"interval\",\"v\":1}\nnot json\n";
  r = Compare({dir.path + "/bad.jsonl", dir.path + "/bad.jsonl"});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("bad.jsonl:1") != std::string::npos);
  r = Compare({"--tolerance", "p98=0.1", "a", "b"});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("p98=0.1") != std::string::npos);
}


}  // namespace
}  // namespace fwcanary::testing

namespace fwcanary::testing {
namespace {

TEST_CASE("calibrate: real agent runs give a noise table and a file compare can use") {
  ScratchDir dir;
  std::string a = RecordRun(dir, "a"), b = RecordRun(dir, "b"), c = RecordRun(dir, "c");
  std::string noise = dir.path + "/noise.json";
  CommandResult r = RunCommand({FWCANARY_BIN, "calibrate", a, b, c, "--out", noise});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("deliver p99") != std::string::npos);
  CHECK(r.out.find("DETECTABLE") != std::string::npos);
  std::ifstream in(noise);
  nlohmann::json j = nlohmann::json::parse(in);
  CHECK(j["run_noise"].contains("p99"));
  CommandResult cmp = Compare({a, b, "--noise", noise, "--json"});
  INFO(cmp.out << cmp.err);
  CHECK((cmp.exit_code == 0 || cmp.exit_code == 3));
  CommandResult one = RunCommand({FWCANARY_BIN, "calibrate", a});
  CHECK(one.exit_code == 2);
  CHECK(one.err.find("at least two runs") != std::string::npos);
  // A scenario's own gate: a p99 tolerance no run of a few seconds can resolve is flagged on
  // every p99 row, and only there.
  CommandResult tight = RunCommand({FWCANARY_BIN, "calibrate", a, b, c, "--tolerance", "p99=0.0001"});
  INFO(tight.out << tight.err);
  CHECK(tight.exit_code == 0);
  int p99_rows = 0, p99_flagged = 0;
  std::istringstream lines(tight.out);
  for (std::string line; std::getline(lines, line);) {
    if (line.find(" p99 ") == std::string::npos) continue;
    ++p99_rows;
    if (line.find("tolerance below noise") != std::string::npos) ++p99_flagged;
  }
  CHECK(p99_rows > 0);
  CHECK(p99_flagged == p99_rows);
  CHECK(tight.out.find("warning: ") != std::string::npos);
  for (const char* bad : {"p99=ten", "p99=-0.1", "p99=0.1x", "latency=0.1"}) {
    INFO(bad);
    CommandResult refused = RunCommand({FWCANARY_BIN, "calibrate", a, b, "--tolerance", bad});
    CHECK(refused.exit_code == 2);
    CHECK(refused.err.find(std::string("fwcanary calibrate: --tolerance")) != std::string::npos);
    CommandResult cmp_refused = Compare({a, b, "--tolerance", bad});
    CHECK(cmp_refused.exit_code == 2);
    CHECK(cmp_refused.err.find(std::string("fwcanary compare: --tolerance")) != std::string::npos);
  }
}


// Controls through the command line (issue 19): each control's baseline window is a --baseline
// of the same node name; the judgment's JSON carries what its controls measured of the
// run-to-run noise, and --noise pools it into a later judgment (more degrees of freedom).
TEST_CASE("compare: controls are paired with their baselines by node name, and an earlier "
          "judgment's noise is pooled with --noise") {
  ScratchDir dir;
  std::map<std::string, std::string> run;
  for (const char* node : {"node-1", "node-2", "node-3"}) {
    for (const char* side : {"before", "after"}) {
      run[std::string(node) + "-" + side] =
          RecordRun(dir, std::string(node) + "-" + side, nullptr, 8, node);
    }
  }
  const std::vector<std::string> args = {
      "--baseline", run["node-1-before"], "--candidate", run["node-1-after"],
      "--baseline", run["node-2-before"], "--control", run["node-2-after"],
      "--baseline", run["node-3-before"], "--control", run["node-3-after"], "--json"};
  CommandResult first = Compare(args);
  INFO(first.out << first.err);
  REQUIRE((first.exit_code == 0 || first.exit_code == 3));
  nlohmann::json a = nlohmann::json::parse(first.out);
  REQUIRE(a["control_run_var"].contains("p50"));
  CHECK(a["control_run_var"]["p50"]["df"].get<double>() >= 1);
  CHECK(a["stalls"].is_array());
  auto did_df = [](const nlohmann::json& j) {
    for (const auto& m : j["metrics"]) {
      if (m["node"] == "node-1" && m["class"] == "deliver" && m["metric"] == "p50") {
        return m["vs_control"]["df"].is_number() ? m["vs_control"]["df"].get<double>() : 0.0;
      }
    }
    return -1.0;
  };
  const double alone = did_df(a);
  REQUIRE(alone > 0);  // the difference in differences was formed: the controls were paired
  std::string earlier = dir.path + "/earlier.json";
  std::ofstream(earlier) << first.out;
  std::vector<std::string> pooled = args;
  pooled.insert(pooled.end(), {"--noise", earlier, "--noise", earlier});
  CommandResult second = Compare(pooled);
  INFO(second.out << second.err);
  REQUIRE((second.exit_code == 0 || second.exit_code == 3));
  // More degrees of freedom for the run-to-run part: when the controls measured some (a
  // variance of 0, clamped from a negative estimate, leaves only the within-window part, whose
  // degrees of freedom pooling cannot change: seen in 1 run of 3 on these real records).
  const double with_noise = did_df(nlohmann::json::parse(second.out));
  if (a["control_run_var"]["p50"]["var"].get<double>() > 0) {
    CHECK(with_noise > alone);
  } else {
    CHECK(with_noise == Approx(alone));
  }
  // A judgment file whose noise is nonsense is refused, naming the file and the metric.
  std::string bad = dir.path + "/bad.json";
  std::ofstream(bad) << R"({"control_run_var": {"p50": {"var": -1, "df": 2}}})";
  std::vector<std::string> refused = args;
  refused.insert(refused.end(), {"--noise", bad});
  CommandResult r = Compare(refused);
  CHECK(r.exit_code == 2);
  CHECK(r.err.find(bad + ": control_run_var: p50: var must be >= 0") != std::string::npos);
  std::string neither = dir.path + "/neither.json";
  std::ofstream(neither) << R"({"verdict": "PASS"})";
  refused.back() = neither;
  r = Compare(refused);
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("neither run_noise") != std::string::npos);
  // And --help says how a control's baseline is given.
  CommandResult help = Compare({"--help"});
  CHECK(help.exit_code == 0);
  CHECK(help.out.find("the judge pairs them by node name") != std::string::npos);
  CHECK(help.out.find("--noise") != std::string::npos);
}

}  // namespace
}  // namespace fwcanary::testing
