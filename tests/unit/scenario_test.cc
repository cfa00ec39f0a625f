#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <regex>
#include <sstream>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "harness/rollout/plan.h"
#include "harness/scenario/command_template.h"
#include "harness/scenario/scenario.h"

namespace fwcanary::scenario {
namespace {

struct Files {
  std::string dir;
  Files() {
    char tmpl[] = "/tmp/fwcanary-scn-XXXXXX";
    dir = ::mkdtemp(tmpl);
  }
  ~Files() { std::filesystem::remove_all(dir); }
  std::string Write(const std::string& name, const std::string& text) const {
    std::string p = dir + "/" + name;
    std::ofstream(p) << text;
    return p;
  }
};

const char kInventory[] = R"(all:
  vars:
    ansible_user: fwlab
  hosts:
    node-1: {ansible_host: 127.0.1.1, workdir: /w/1, state_dir: /s/1}
    node-2: {ansible_host: 127.0.1.2, workdir: /w/2, state_dir: /s/2}
    node-3: {ansible_host: 127.0.1.3, workdir: /w/3, state_dir: /s/3}
)";

const char kScenario[] = R"(name: t
inventory: INV
firmware:
  image: "2.0"
  version_command: fwsim-node version
  upgrade_command: fwsim-node flash {image}
  rollback_command: fwsim-node rollback
  rollback_image: "1.0"
  rollback_check_command: fwsim-node can-rollback {rollback_image}
workload:
  rate: 30
  phases: [{name: steady, duration_s: 10}]
)";

std::string Scn(const Files& f, const std::string& extra = "", const std::string& replace = "",
                const std::string& with = "") {
  std::string inv = f.Write("inv.yaml", kInventory);
  std::string text = kScenario;
  text.replace(text.find("INV"), 3, inv);
  if (!replace.empty()) text.replace(text.find(replace), replace.size(), with);
  return f.Write("s.yaml", text + extra);
}

TEST_CASE("scenario: the demo scenario loads against a lab inventory and plans a canary") {
  Files f;
  std::string inv = f.Write("inv.yaml", kInventory);
  auto sc = LoadScenario(FWCANARY_SCENARIOS "/demo.yaml", {"1.1", "", inv});
  INFO(sc.status().message());
  REQUIRE(sc.ok());
  CHECK(sc->firmware.image == "1.1");
  CHECK(sc->firmware.version == "1.1");
  CHECK(sc->inventory.nodes.size() == 3);
  CHECK(sc->inventory.nodes[1].user == "fwlab");
  CHECK(sc->judge.tolerances.at("p99") == 2.0);
  rollout::Plan plan = rollout::MakePlan(sc.value());
  REQUIRE(plan.waves.size() == 2);
  CHECK(plan.waves[0].nodes.size() == 1);
  CHECK(plan.waves[1].nodes.size() == 2);
  std::string text = rollout::RenderPlan(sc.value(), plan);
  CHECK(text.find("fwsim-node flash '1.1'") != std::string::npos);
  CHECK(text.find("nothing was touched") != std::string::npos);
}

TEST_CASE("scenario: a ramp phase and its headroom settings load, the expected surge defaults to the surge phase's") {
  Files f;
  auto sc = LoadScenario(Scn(f, "headroom: {margin: 0.1}\njudge: {tolerances: {headroom: 0.5}, critical: [throughput, headroom]}\n",
                             "phases: [{name: steady, duration_s: 10}]",
                             "phases: [{name: steady, duration_s: 10}, {name: surge, duration_s: 5, multiplier: 3}, "
                             "{name: ramp, duration_s: 60, steps: [1, 2, 4], step_s: 10, keep_up: 0.9}]"));
  INFO(sc.status().message());
  REQUIRE(sc.ok());
  const Phase* ramp = sc->RampPhase();
  REQUIRE(ramp != nullptr);
  CHECK(ramp->steps == std::vector<double>{1, 2, 4});
  CHECK(ramp->keep_up == 0.9);
  CHECK(ramp->latency_factor == 4);
  CHECK(sc->ExpectedSurge() == 3);
  CHECK(sc->headroom.margin == 0.1);
  CHECK(sc->judge.tolerances.at("headroom") == 0.5);
  // The agent is handed the ramp as it was written.
  nlohmann::json spec = sc->workload.ToJson();
  CHECK(spec["phases"][2]["steps"] == nlohmann::json::array({1.0, 2.0, 4.0}));
  CHECK_FALSE(spec["phases"][2].contains("multiplier"));
  auto back = ParseWorkloadSpec(spec.dump(), "spec.json");
  INFO(back.status().message());
  REQUIRE(back.ok());
  CHECK(back->phases[2].IsRamp());
}

TEST_CASE("scenario: waves follow Ansible's serial, the last size repeating") {
  Files f;
  std::string hosts = "all:\n  hosts:\n";
  for (int i = 1; i <= 10; ++i) hosts += "    n" + std::to_string(i) + ": {workdir: /w}\n";
  std::string inv = f.Write("inv10.yaml", hosts);
  auto sc = LoadScenario(Scn(f, "rollout: {waves: [1, \"25%\"]}\n"), {"", "", inv});
  REQUIRE(sc.ok());
  rollout::Plan plan = rollout::MakePlan(sc.value());
  std::vector<std::size_t> sizes;
  for (const auto& w : plan.waves) sizes.push_back(w.nodes.size());
  CHECK(sizes == std::vector<std::size_t>{1, 2, 2, 2, 2, 1});
}

TEST_CASE("scenario: values reach the shell as literal words") {
  std::string hostile = "it's; $(touch /tmp/fwcanary-pwned) `id` \"x\"\nnext";
  auto cmd = Expand("printf %s {node.workdir}", {{"node.workdir", hostile}});
  REQUIRE(cmd.ok());
  std::string out_file = "/tmp/fwcanary-quote-test.out";
  std::string sh = cmd.value() + " > " + out_file;
  REQUIRE(std::system(sh.c_str()) == 0);
  std::ifstream in(out_file);
  std::string got((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::filesystem::remove(out_file);
  CHECK(got == hostile);
  CHECK(!std::filesystem::exists("/tmp/fwcanary-pwned"));
  CHECK(Expand("a {{literal}} {image}", {{"image", "x"}}).value() == "a {literal} 'x'");
  CHECK(!Expand("flash {image", {}).ok());
  CHECK(Expand("flash {nope}", {}).status().code() == Status::Code::kNotFound);
}

TEST_CASE("scenario: errors name file line column and field", "[bad-input]") {
  Files f;
  auto expect = [&](const std::string& path, const std::string& what) {
    auto sc = LoadScenario(path);
    REQUIRE(!sc.ok());
    INFO(sc.status().message());
    CHECK(sc.status().message().find(what) != std::string::npos);
  };
  expect(Scn(f, "rolout: {}\n"), "s.yaml:13:1: field 'rolout': unknown field (did you mean 'rollout'?)");
  expect(Scn(f, "rollout: {waves: [1, \"0%\"]}\n"), "s.yaml:13:22: field 'rollout.waves[1]'");
  expect(Scn(f, "rollout: {waves: [1, abc]}\n"), "field 'rollout.waves[1]': must be a count");
  // Past int: once a crash in `plan` (std::stoi), now an error naming the field.
  expect(Scn(f, "rollout: {waves: [3000000000]}\n"), "s.yaml:13:19: field 'rollout.waves[0]': must be a count from 1 to 1000000");
  expect(Scn(f, "rollout: {waves: [\"0.\" ]}\n"), "field 'rollout.waves[0]'");
  expect(Scn(f, "rollout: {waves: [\"1" + std::string(400, '0') + "%\"]}\n"), "field 'rollout.waves[0]'");
  expect(Scn(f, "rollout: {waves: " + std::string(100, '[') + std::string(100, ']') + "}\n"), "nested deeper than 64 levels");
  // Not UTF-8 (a Latin-1 byte in a command): refused where it stands, before it could reach the
  // plan, the journal and the reports (it once made report.json throw).
  expect(Scn(f, "", "fwsim-node rollback", "fwsim-node rollback caf\xe9"), "not valid UTF-8 (byte 0xE9)");
  {
    auto sc = LoadScenario(Scn(f), {"", "", f.Write("latin1.ini", "[n]\nn1 ansible_host=127.0.0.1 tag=caf\xe9\n")});
    REQUIRE(!sc.ok());
    INFO(sc.status().message());
    CHECK(sc.status().message().find("latin1.ini:2:34: not valid UTF-8 (byte 0xE9)") != std::string::npos);
  }
  {
    std::string laughs = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
    for (int i = 1; i < 7; ++i) {
      laughs += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [";
      for (int k = 0; k < 10; ++k) laughs += (k ? ", *a" : "*a") + std::to_string(i - 1);
      laughs += "]\n";
    }
    expect(Scn(f, laughs), "repeated values (aliases that repeat each other?)");
  }
  expect(Scn(f, "ssh: {host_keys: \"off\"}\n"), "field 'ssh.host_keys': must be one of strict, accept-new");
  expect(Scn(f, "judge: {tolerances: {p98: 0.1}}\n"), "field 'judge.tolerances.p98': unknown metric 'p98' (did you mean 'p99'?)");
  // Narrower tolerances: per class, per phase; each part is checked.
  expect(Scn(f, "judge: {tolerances: {deliver.p98: 0.1}}\n"), "field 'judge.tolerances.deliver.p98': unknown metric 'p98'");
  expect(Scn(f, "judge: {tolerances: {deliver.queue_depth: 0.1}}\n"), "queue_depth is measured per node, not per class");
  expect(Scn(f, "judge: {tolerances: {deliver.p99.surgee: 0.1}}\n"), "field 'judge.tolerances.deliver.p99.surgee': no workload phase is named 'surgee'");
  expect(Scn(f, "judge: {pass_score: 60, fail_below_score: 80}\n"), "field 'judge.fail_below_score': must not be above judge.pass_score");
  expect(Scn(f, "slo: [{metric: p99, class: deliver, phase: surgee, limit: 200}]\n"), "field 'slo[0].phase': no workload phase is named 'surgee'");
  // Headroom: a ramp's steps, and what judges it.
  const std::string steady = "phases: [{name: steady, duration_s: 10}]";
  expect(Scn(f, "", steady, "phases: [{name: steady, duration_s: 10}, {name: ramp, duration_s: 60, steps: [1, 3, 2]}]"),
         "field 'workload.phases[1].steps[2]': steps must ascend");
  expect(Scn(f, "", steady, "phases: [{name: ramp, duration_s: 60, steps: [1, 2], multiplier: 2}]"),
         "field 'workload.phases[0].multiplier': a ramp (`steps`) sets its rate by its steps");
  expect(Scn(f, "", steady, "phases: [{name: ramp, duration_s: 10, steps: [1, 4], step_s: 20}]"),
         "field 'workload.phases[0].duration_s': shorter than one ramp step (step_s)");
  expect(Scn(f, "", steady, "phases: [{name: steady, duration_s: 10, step_s: 5}]"),
         "field 'workload.phases[0].step_s': only a ramp (`steps`) has it");
  expect(Scn(f, "", steady,
             "phases: [{name: s, duration_s: 10}, {name: surge, duration_s: 5, multiplier: 3}, "
             "{name: ramp, duration_s: 60, steps: [1, 2]}]"),
         "field 'workload.phases': the ramp's last step (2x) is below the expected surge (3x)");
  expect(Scn(f, "judge: {tolerances: {headroom: 0.2}}\n"),
         "field 'judge': headroom is judged on a ramp phase (`steps`), and the workload has none");
  expect(Scn(f, "headroom: {expected_surge: 0.5}\n"), "field 'headroom.expected_surge': must be >= 1");
  expect(Scn(f, "judge: {critical: [headroomm]}\n"), "must be a metric name (throughput, p50, p99, ..., headroom)");
  expect(Scn(f, "slo: [{metric: queue_depth, class: deliver, limit: 2}]\n"), "field 'slo[0].metric'");
  expect(Scn(f, "judge: {critical: [p50, latency]}\n"), "field 'judge.critical[1]': must be a metric name");
  expect(Scn(f, "", "fwsim-node rollback", "fwsim-node rollback {imgae}"),
         "field 'firmware.rollback_command': unknown placeholder {imgae}");
  expect(Scn(f, "", "fwsim-node version", "fwsim-node version {node.slot}"),
         "uses {node.slot} but node 'node-1' has no var 'slot'");
  expect(Scn(f, "", "  rate: 30", "  rate: -5"), "s.yaml:11:3: field 'workload.rate': must be >= 0");
  expect(Scn(f, "", "  image: \"2.0\"\n", ""), "no image to flash");
  expect(Scn(f, "", "name: t\n", ""), "missing required field 'name'");
  expect(f.Write("bad.yaml", "name: [unclosed\n"), "bad.yaml:");
  // Safety: no way to check the rollback means no flashing, unless said in so many words.
  expect(Scn(f, "", "  rollback_check_command: fwsim-node can-rollback {rollback_image}\n", ""),
         "field 'firmware': no rollback_check_command");
  CHECK(LoadScenario(Scn(f, "rollout: {allow_unrollbackable: true}\n",
                         "  rollback_check_command: fwsim-node can-rollback {rollback_image}\n", ""))
            .ok());
  expect(Scn(f, "", "  rollback_image: \"1.0\"\n", ""), "firmware.rollback_image is not set");
  expect(Scn(f, "rollout: {lock_path: \"/var/lock/{node.rack}.lock\"}\n"),
         "uses {node.rack} but node 'node-1' has no var 'rack'");
  // Secrets are refused with the way that works, and the value is not echoed back.
  auto secret = LoadScenario(Scn(f, "ssh: {password: hunter2-secret}\n"));
  REQUIRE(!secret.ok());
  CHECK(secret.status().message().find("s.yaml:13:7: field 'ssh.password': secrets never go in a scenario file") !=
        std::string::npos);
  CHECK(secret.status().message().find("FWCANARY_SSH_PASSWORD") != std::string::npos);
  CHECK(secret.status().message().find("hunter2") == std::string::npos);
  expect(Scn(f, "ssh: {passphrase: x}\n"), "set FWCANARY_SSH_PASSPHRASE in the controller's environment");
}

TEST_CASE("scenario: the plan shows the rollback check and the lease of every node") {
  Files f;
  auto sc = LoadScenario(Scn(f));
  REQUIRE(sc.ok());
  std::string text = rollout::RenderPlan(sc.value(), rollout::MakePlan(sc.value()));
  CHECK(text.find("rollback check: fwsim-node can-rollback '1.0'") != std::string::npos);
  CHECK(text.find("lease:    /var/tmp/fwcanary-'node-2'.lock") != std::string::npos);
}

TEST_CASE("scenario: an INI inventory with groups and group vars") {
  Files f;
  std::string ini = f.Write("hosts.ini",
                            "[arrays]\n"
                            "a1 ansible_host=10.0.0.1 ansible_port=2222\n"
                            "a2 ansible_host=10.0.0.2\n"
                            "[arrays:vars]\n"
                            "workdir=/mnt/mail\n"
                            "[all:vars]\n"
                            "ansible_user=ops\n"
                            "workdir=/ignored-when-group-sets-it\n");
  auto inv = LoadAnsibleInventory(ini);
  REQUIRE(inv.ok());
  REQUIRE(inv->nodes.size() == 2);
  CHECK(inv->nodes[0].host == "10.0.0.1");
  CHECK(inv->nodes[0].port == 2222);
  CHECK(inv->nodes[0].user == "ops");
  CHECK(inv->nodes[1].vars.at("workdir") == "/mnt/mail");
  auto bad = LoadAnsibleInventory(f.Write("bad.ini", "[g]\nh1 port\n"));
  REQUIRE(!bad.ok());
  CHECK(bad.status().message().find("bad.ini:2") != std::string::npos);
}

}  // namespace
}  // namespace fwcanary::scenario

namespace fwcanary::scenario {
namespace {

TEST_CASE("scenario: every ready scenario in scenarios/ validates and plans") {
  Files f;
  std::string lab_inventory = f.Write("inv.yaml", kInventory);
  int seen = 0;
  for (const auto& e : std::filesystem::directory_iterator(FWCANARY_SCENARIOS)) {
    if (e.path().extension() != ".yaml") continue;
    ++seen;
    INFO(e.path().string());
    // The demo reads the lab's inventory, which is only there while a lab is up.
    LoadOverrides o;
    if (e.path().filename() == "demo.yaml") o.inventory = lab_inventory;
    auto sc = LoadScenario(e.path().string(), o);
    INFO(sc.status().message());
    REQUIRE(sc.ok());
    rollout::Plan plan = rollout::MakePlan(sc.value());
    CHECK(!plan.waves.empty());
    CHECK(plan.waves[0].nodes.size() == 1);  // every ready scenario starts with one canary
    std::string text = rollout::RenderPlan(sc.value(), plan);
    CHECK(text.find("rollback check: none") == std::string::npos);  // all of them check it
    CHECK(text.find("<") == std::string::npos);  // no template failed to expand
    // The real-hardware scenarios run at the judge's default run length; the demo is short on
    // purpose (the lab's regression is large) and the plan says what that costs.
    const bool is_short =
        text.find("shorter than the judge's default run length") != std::string::npos;
    CHECK(is_short == (e.path().filename() == "demo.yaml"));
  }
  CHECK(seen >= 5);  // demo, nvme-drive, array-vendor-cli, nightly, maintenance-window
}

TEST_CASE("scenario: the NVMe driver confirms activation without a reboot") {
  auto sc = LoadScenario(FWCANARY_SCENARIOS "/nvme-drive.yaml",
                         {"/srv/firmware/EDA7602Q.bin", "EDA7602Q", ""});
  REQUIRE(sc.ok());
  CHECK(!sc->firmware.reboots);  // immediate activation changes no boot id
  CHECK(sc->firmware.stable_s > 0);
  std::string text = rollout::RenderPlan(sc.value(), rollout::MakePlan(sc.value()));
  CHECK(text.find("nvme fw-commit \"$dev\" --slot=\"$slot\" --action=3") != std::string::npos);
  CHECK(text.find("--fw='/srv/firmware/EDA7602Q.bin'") != std::string::npos);
  CHECK(text.find("awk '$1 == \"fr\" {print $3}'") != std::string::npos);  // {{ }} are braces
  CHECK(text.find("*[Rr]eset*)") != std::string::npos);  // reset pending is not a failure
}

TEST_CASE("scenario: client-only nodes get no firmware commands, checks run where `on` says") {
  auto sc = LoadScenario(FWCANARY_SCENARIOS "/array-vendor-cli.yaml");
  REQUIRE(sc.ok());
  const Node* mx = sc->inventory.Find("mx-w1");
  REQUIRE(mx != nullptr);
  CHECK(!mx->target);
  CHECK(mx->client);
  CHECK(mx->writes_to == "array-west");
  CHECK(sc->inventory.Targets().size() == 2);
  CHECK(!sc->health[0].AppliesTo(*mx));
  Files f;
  std::string path = f.Write("on.yaml", std::string(kScenario).replace(std::string(kScenario).find("INV"), 3,
                                                                        f.Write("i.yaml", kInventory)) +
                                            "health:\n  - {name: spool, run: 'test -d {node.workdir}', on: clients}\n"
                                            "  - {name: x, run: 'true', on: everyone}\n");
  auto bad = LoadScenario(path);
  REQUIRE(!bad.ok());
  INFO(bad.status().message());
  CHECK(bad.status().message().find("field 'health[1].on': must be one of targets, clients, all") !=
        std::string::npos);
}

TEST_CASE("scenario: hostile vars stay literal in every planned command, and a hostile node name is refused", "[bad-input]") {
  Files f;
  std::string inv = f.Write("hostile.ini",
                            "[n]\n"
                            "n1 ansible_host=127.0.0.1 tag=x;touch${IFS}/tmp/fwcanary-pwned "
                            "workdir='/w/$(id)' state_dir=/s\n");
  auto sc = LoadScenario(Scn(f, "", "fwsim-node version", "fwsim-node version {node.tag} {node.workdir}"),
                         {"", "", inv});
  INFO(sc.status().message());
  REQUIRE(sc.ok());
  std::string text = rollout::RenderPlan(sc.value(), rollout::MakePlan(sc.value()));
  INFO(text);
  CHECK(text.find("fwsim-node version 'x;touch${IFS}/tmp/fwcanary-pwned'") != std::string::npos);
  CHECK(text.find("'/w/$(id)'") != std::string::npos);
  // A node's name names its files in the run directory and reaches terminals: shell syntax, a
  // '/' (its samples would land elsewhere) and control bytes are refused, naming file and node.
  for (const std::string name : {"evil;touch${IFS}/tmp/fwcanary-pwned", "a/b", "../up", "-n", "x\x1b[2J"}) {
    auto bad = LoadScenario(Scn(f, "", "fwsim-node version", "fwsim-node version"),
                            {"", "", f.Write("bad.ini", "[n]\n" + name + " ansible_host=127.0.0.1 workdir=/w state_dir=/s\n")});
    INFO(name);
    REQUIRE(!bad.ok());
    CHECK(bad.status().message().find("bad.ini: node name '") != std::string::npos);
    CHECK(bad.status().message().find("may hold only letters, digits") != std::string::npos);
    CHECK(bad.status().message().find('\x1b') == std::string::npos);
  }
}

TEST_CASE("scenario: 200 nodes plan into waves of 1, 10%, 50%, the rest") {
  Files f;
  std::string hosts = "[rack]\n";
  for (int i = 0; i < 200; ++i) hosts += "n" + std::to_string(i) + " ansible_host=10.0.0.1\n";
  hosts += "[rack:vars]\nworkdir=/w\nstate_dir=/s\n";
  auto sc = LoadScenario(Scn(f, "rollout: {waves: [1, \"10%\", \"50%\"]}\n"), {"", "", f.Write("big.ini", hosts)});
  INFO(sc.status().message());
  REQUIRE(sc.ok());
  rollout::Plan plan = rollout::MakePlan(sc.value());
  std::vector<std::size_t> sizes;
  std::size_t total = 0;
  for (const auto& w : plan.waves) {
    sizes.push_back(w.nodes.size());
    total += w.nodes.size();
  }
  CHECK(total == 200);
  REQUIRE(sizes.size() >= 3);
  CHECK(sizes[0] == 1);
  CHECK(sizes[1] == 20);
  CHECK(sizes[2] == 100);
}

}  // namespace
}  // namespace fwcanary::scenario

namespace fwcanary::scenario {
namespace {

// One field of DescribeScenarioFormat(): its path ("ssh.user", "health[].run"), kind, whether
// required, and its range when it has one.
struct FieldLine {
  std::string path, kind;
  bool required = false;
  std::optional<double> min, max;
};

std::vector<FieldLine> EveryScenarioField() {
  std::vector<FieldLine> out;
  std::istringstream in(DescribeScenarioFormat());
  const std::regex line_re(R"(^  (\S+)\s+(string|number|integer|bool|object|array|any)\s+(.*)$)");
  const std::regex range_re(R"(\[([-0-9.e+]*)\.\.([-0-9.e+]*)\]$)");
  for (std::string l; std::getline(in, l);) {
    std::smatch m;
    if (!std::regex_match(l, m, line_re)) continue;
    FieldLine f{m[1], m[2], m[3].str().rfind("(required)", 0) == 0, std::nullopt, std::nullopt};
    std::smatch r;
    std::string rest = m[3];
    if (std::regex_search(rest, r, range_re)) {
      if (r[1].length() > 0) f.min = std::stod(r[1]);
      if (r[2].length() > 0) f.max = std::stod(r[2]);
    }
    out.push_back(f);
  }
  return out;
}

// The scenario as JSON (one top-level key per YAML line, its value in flow style), with `path`
// set to `value` (or removed when `value` is discarded).
std::string ScenarioWith(const Files& f, const std::string& path, const nlohmann::json& value) {
  nlohmann::json s = {
      {"name", "t"},
      {"inventory", f.Write("inv.yaml", kInventory)},
      {"firmware",
       {{"image", "2.0"}, {"version_command", "fwsim-node version"}, {"upgrade_command", "fwsim-node flash {image}"},
        {"rollback_command", "fwsim-node rollback"}, {"rollback_image", "1.0"},
        {"rollback_check_command", "fwsim-node can-rollback {rollback_image}"}}},
      {"workload", {{"rate", 30}, {"phases", {{{"name", "steady"}, {"duration_s", 10}}}}}},
      {"health", {{{"name", "up"}, {"run", "true"}}}},
      {"slo", {{{"metric", "p99"}, {"class", "deliver"}, {"limit", 200}}}}};
  std::size_t dot = path.find('.');
  nlohmann::json* parent = &s;
  std::string key = path;
  if (dot != std::string::npos) {
    std::string section = path.substr(0, dot);
    key = path.substr(dot + 1);
    if (section == "health[]") {
      parent = &s["health"][0];
    } else if (section == "slo[]") {
      parent = &s["slo"][0];
    } else {
      if (!s.contains(section)) s[section] = nlohmann::json::object();
      parent = &s[section];
    }
  }
  if (value.is_discarded()) parent->erase(key);
  else (*parent)[key] = value;
  std::string text;
  for (const auto& [k, v] : s.items()) text += k + ": " + v.dump() + "\n";
  return f.Write("s.yaml", text);
}

}  // namespace

TEST_CASE("scenario: every field wrong in type, out of range or missing is refused with file:line:col and its name", "[bad-input]") {
  Files f;
  REQUIRE(LoadScenario(ScenarioWith(f, "name", "t")).ok());  // the base is valid
  std::vector<FieldLine> fields = EveryScenarioField();
  REQUIRE(fields.size() > 40);
  int tried = 0;
  for (const FieldLine& field : fields) {
    std::string shown = std::regex_replace(field.path, std::regex(R"(\[\])"), "[0]");
    auto refused = [&](const nlohmann::json& value, const std::string& what) {
      ++tried;
      auto sc = LoadScenario(ScenarioWith(f, field.path, value));
      INFO(field.path << " = " << (value.is_discarded() ? "(missing)" : value.dump()) << ": " << what);
      REQUIRE_FALSE(sc.ok());
      INFO(sc.status().message());
      CHECK(std::regex_search(sc.status().message(), std::regex(R"(s\.yaml:\d+:\d+: )")));
      CHECK(sc.status().message().find(what) != std::string::npos);
    };
    // Wrong type: a value no field of that kind takes.
    if (field.kind == "number" || field.kind == "integer") refused("abc", "field '" + shown + "'");
    if (field.kind == "string") refused(nlohmann::json::array({1}), "field '" + shown + "'");
    if (field.kind == "bool") refused("maybe", "field '" + shown + "'");
    if (field.kind == "object" || field.kind == "array") refused(5, "field '" + shown + "'");
    if (field.kind == "integer") refused(1.5, "field '" + shown + "'");
    // Out of range, on each side that has a bound.
    if (field.min) refused(*field.min - 1, "field '" + shown + "'");
    if (field.max) refused(*field.max * 2 + 1, "field '" + shown + "'");
    // Missing, when required.
    if (field.required) {
      std::string name = field.path.substr(field.path.rfind('.') == std::string::npos ? 0 : field.path.rfind('.') + 1);
      refused(nlohmann::json(nlohmann::json::value_t::discarded), "missing required field '" + name + "'");
    }
  }
  INFO(tried << " bad scenarios tried");
  CHECK(tried > 80);
}

}  // namespace fwcanary::scenario
