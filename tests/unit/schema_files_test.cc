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
    if (!actual.contains(name)) continue;
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
  CompareDefaults(WorkloadSpecSchema(), WorkloadSpec{}.ToJson(), "", &wrong, &checked);
  for (const auto& w : wrong) UNSCOPED_INFO(w);
  CHECK(wrong.empty());
  CHECK(checked >= 25);  // every scalar field with a plain default, nested ones included
}

}  // namespace
}  // namespace fwcanary
