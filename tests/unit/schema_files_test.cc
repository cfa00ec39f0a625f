// The JSON Schemas of the three file formats are generated from the field tables that parse them
// (common/schema.h TableSchema). The committed files must be what the tables generate today
// (ci/schemas rewrites them), and the defaults the tables print must be the structs' own.
#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "agents/spec/workload_spec.h"
#include "harness/scenario/scenario.h"
#include "lab/fwsim/firmware_profile.h"

namespace fwcanary {
namespace {

using nlohmann::json;

json ReadJson(const std::string& path) {
  std::ifstream in(path);
  REQUIRE(in.good());
  std::stringstream ss;
  ss << in.rdbuf();
  return json::parse(ss.str());
}

// The first path at which two schemas differ, for a message that says where ("" when equal).
std::string FirstDifference(const json& a, const json& b, const std::string& at = "") {
  if (a.is_number() && b.is_number()) return a == b ? "" : at;  // 1 (int) is 1 (unsigned, parsed)
  if (a.type() != b.type()) return at.empty() ? "/" : at;
  if (a.is_object()) {
    for (const auto& [k, v] : a.items()) {
      if (!b.contains(k)) return at + "/" + k + " (only in the table)";
      if (std::string d = FirstDifference(v, b[k], at + "/" + k); !d.empty()) return d;
    }
    for (const auto& [k, v] : b.items()) {
      if (!a.contains(k)) return at + "/" + k + " (only in the file)";
    }
    return "";
  }
  if (a.is_array()) {
    if (a.size() != b.size()) return at + " (length)";
    for (std::size_t i = 0; i < a.size(); ++i) {
      if (std::string d = FirstDifference(a[i], b[i], at + "/" + std::to_string(i)); !d.empty())
        return d;
    }
    return "";
  }
  return a == b ? "" : at;
}

TEST_CASE("schema files match the field tables (run ci/schemas after changing a table)") {
  const std::string root = std::string(FWCANARY_SCENARIOS) + "/..";
  struct File {
    const char* path;
    json generated;
  };
  for (const File& f : {File{"/scenarios/scenario.schema.json", scenario::ScenarioSchema()},
                        File{"/agents/workload-spec.schema.json", WorkloadSpecDocumentSchema()},
                        File{"/lab/firmware/firmware.schema.json", lab::FirmwareImageSchema()}}) {
    INFO(f.path);
    json committed = ReadJson(root + f.path);
    CHECK(FirstDifference(f.generated, committed) == "");
  }
}

TEST_CASE("schemas refuse unknown fields and say what each field is, as the parser does") {
  json s = scenario::ScenarioSchema();
  CHECK(s["additionalProperties"] == false);
  CHECK(s["required"] == json::array({"name", "inventory", "firmware", "workload"}));
  // Nested tables come through: the workload spec inside the scenario, its phases inside it.
  const json& phase = s["properties"]["workload"]["properties"]["phases"]["items"];
  CHECK(phase["required"] == json::array({"name", "duration_s"}));
  CHECK(phase["properties"]["duration_s"]["minimum"] == 0.001);
  CHECK(s["properties"]["transport"]["enum"] == json::array({"ssh", "local"}));
  CHECK(s["properties"]["workload"]["properties"]["engine"]["enum"] ==
        json::array({"mail", "fio"}));
  // A secret is never valid in a scenario file.
  CHECK(s["properties"]["ssh"]["properties"]["password"]["not"] == json::object());
  CHECK(s["properties"]["judge"]["properties"]["tolerances"]["properties"].contains("p99"));
  CHECK(
      lab::FirmwareImageSchema()["properties"]["load_knee"]["properties"]["only"]["enum"].size() ==
      6);
}

// Every default the schema states (from the table's default text) against `actual`, the struct's
// own default rendered as JSON; returns the fields that differ.
void CompareDefaults(const json& schema, const json& actual, const std::string& at,
                     std::vector<std::string>* wrong, int* checked) {
  if (!schema.contains("properties")) return;
  for (const auto& [name, prop] : schema["properties"].items()) {
    if (!actual.contains(name)) {
      // A stated default the test cannot read from the struct is a gap in this test.
      if (prop.contains("default")) wrong->push_back(at + name + ": not read from the struct by this test");
      continue;
    }
    if (prop.contains("default")) {
      ++*checked;
      const json& d = prop["default"];
      const json& v = actual[name];
      bool same = d.is_number() && v.is_number() ? d.get<double>() == v.get<double>() : d == v;
      if (!same)
        wrong->push_back(at + name + ": table says " + d.dump() + ", struct has " + v.dump());
    }
    if (prop.value("type", "") == "object")
      CompareDefaults(prop, actual[name], at + name + ".", wrong, checked);
  }
}

TEST_CASE("the workload table's default texts are the spec struct's initial values") {
  std::vector<std::string> wrong;
  int checked = 0;
  const WorkloadSpec spec;
  json actual = spec.ToJson();
  actual["duration_s"] = spec.duration_s;  // not in ToJson: it only makes the default phase
  actual["fill_to"] = spec.fill_to;        // in ToJson only when set (older agents refuse it)
  CompareDefaults(WorkloadSpecSchema(), actual, "", &wrong, &checked);
  for (const auto& w : wrong) UNSCOPED_INFO(w);
  CHECK(wrong.empty());
  CHECK(checked >= 29);  // every scalar field with a plain default, nested ones included
}

TEST_CASE("the scenario tables' default texts are the scenario structs' initial values") {
  const scenario::Scenario sc;
  const scenario::Check check;
  json waves = json::array();
  for (const auto& w : sc.rollout.waves) {
    waves.push_back(w.find('%') == std::string::npos ? json(std::stoi(w)) : json(w));
  }
  const json actual = {
      {"transport", sc.transport},
      {"ssh",
       {{"known_hosts", sc.ssh.known_hosts}, {"host_keys", sc.ssh.host_keys},
        {"connect_timeout_s", sc.ssh.connect_timeout_s}, {"command_timeout_s", sc.ssh.command_timeout_s},
        {"upload_timeout_s", sc.ssh.upload_timeout_s}, {"silence_s", sc.ssh.silence_s},
        {"keepalive_s", sc.ssh.keepalive_s}, {"concurrency", sc.ssh.concurrency}}},
      {"firmware",
       {{"reboots", sc.firmware.reboots}, {"reboot_timeout_s", sc.firmware.reboot_timeout_s},
        {"stable_s", sc.firmware.stable_s}, {"resend_after_s", sc.firmware.resend_after_s}}},
      {"health", json::array()},
      {"drift", json::array()},
      {"rollout",
       {{"waves", waves}, {"max_failures", sc.rollout.max_failures}, {"pause_s", sc.rollout.pause_s},
        {"allow_unrollbackable", sc.rollout.allow_unrollbackable}, {"lock_path", sc.rollout.lock_path},
        {"lock_ttl_s", sc.rollout.lock_ttl_s}}},
      {"judge", {{"alpha", sc.judge.alpha}, {"pass_score", sc.judge.pass_score},
                 {"fail_below_score", sc.judge.fail_below_score}}},
      {"slo", json::array()},
      {"upgrade",
       {{"max_stall_s", sc.upgrade.max_stall_s}, {"max_errors", sc.upgrade.max_errors},
        {"recovery_tolerance", sc.upgrade.recovery_tolerance}, {"margin_s", sc.upgrade.margin_s}}},
      {"reports", {{"dir", sc.reports.dir}}},
  };
  std::vector<std::string> wrong;
  int checked = 0;
  json schema = scenario::ScenarioSchema();
  schema["properties"].erase("workload");  // the spec's own test above
  CompareDefaults(schema, actual, "", &wrong, &checked);
  const json check_actual = {{"timeout_s", check.cmd.timeout_s}, {"expect_exit", check.expect_exit},
                             {"on", check.on}};
  CompareDefaults(schema["properties"]["health"]["items"], check_actual, "health[].", &wrong, &checked);
  const scenario::ServiceLevel sl;
  CompareDefaults(schema["properties"]["slo"]["items"], json{{"baseline", sl.baseline}, {"phase", sl.phase}}, "slo[].",
                  &wrong, &checked);
  for (const auto& w : wrong) UNSCOPED_INFO(w);
  CHECK(wrong.empty());
  CHECK(checked >= 29);
}

TEST_CASE("the firmware image table's default texts are the profile struct's initial values") {
  const lab::FirmwareProfile p;
  json latency = json::object();
  for (std::size_t op = 0; op < lab::kFsOpCount; ++op) {
    latency[lab::FsOpName(static_cast<lab::FsOp>(op))] = p.base_us[op];
  }
  const json actual = {
      {"flash_seconds", p.flash_seconds},
      {"disruptive", p.disruptive},
      {"giveback_seconds", p.giveback_seconds},
      {"giveback_after_s", p.giveback_after_s},
      {"error_seconds", p.error_seconds},
      {"error_ops", [&] {
         json a = json::array();
         for (lab::FsOp op : p.error_ops) a.push_back(lab::FsOpName(op));
         return a;
       }()},
      {"management_returns", p.management_returns},
      {"changes_boot_id", p.changes_boot_id},
      {"service_slots", p.service_slots},
      {"latency_us", latency},
      {"per_kib_us", {{"read", p.read_us_per_kib}, {"write", p.write_us_per_kib}}},
      {"load_knee", {{"ops_per_s", p.knee_ops_per_s}, {"slowdown", p.knee_slowdown}}},
      {"space", {{"per_file_bytes", p.space_per_file_bytes}, {"bytes_factor", p.space_bytes_factor}}},
  };
  std::vector<std::string> wrong;
  int checked = 0;
  CompareDefaults(lab::FirmwareImageSchema(), actual, "", &wrong, &checked);
  for (const auto& w : wrong) UNSCOPED_INFO(w);
  CHECK(wrong.empty());
  CHECK(checked >= 19);
}

}  // namespace
}  // namespace fwcanary
