// The schemas of the file formats, checked by a real JSON Schema validator (python3-jsonschema)
// against every file the project ships: scenarios, agent specs, lab firmware images. An editor
// with these schemas must accept what fwcanary accepts, and refuse a misspelt field as it does.
#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>

#include "tests/integration/agent_runner.h"
#include "tests/integration/command.h"

using fwcanary::testing::CommandResult;
using fwcanary::testing::RunCommand;
using fwcanary::testing::ScratchDir;

namespace {

namespace fs = std::filesystem;
const std::string kSource = FWCANARY_SOURCE_DIR;

// Validates each file (YAML or JSON) against the schema; prints "ok FILE" or "bad FILE: why".
const char* kValidate =
    "import json,sys,yaml,jsonschema\n"
    "s=json.load(open(sys.argv[1]))\n"
    "jsonschema.Draft202012Validator.check_schema(s)\n"
    "v=jsonschema.Draft202012Validator(s)\n"
    "rc=0\n"
    "for f in sys.argv[2:]:\n"
    "  doc=yaml.safe_load(open(f))\n"
    "  errs=sorted(v.iter_errors(doc), key=lambda e: list(e.path))\n"
    "  if errs:\n"
    "    rc=1; print('bad', f + ':', '/'.join(map(str, errs[0].path)), errs[0].message)\n"
    "  else:\n"
    "    print('ok', f)\n"
    "sys.exit(rc)\n";

std::vector<std::string> Files(const std::string& dir, const std::string& ext) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    std::string p = e.path().string();
    if (e.is_regular_file() && e.path().extension() == ext &&
        p.find(".schema.") == std::string::npos)
      out.push_back(p);
  }
  std::sort(out.begin(), out.end());
  return out;
}

CommandResult Validate(const std::string& schema, const std::vector<std::string>& files) {
  // Debian's python3 and its python3-jsonschema and python3-yaml (ci/bootstrap), whatever PATH
  // says.
  std::vector<std::string> argv = {"/usr/bin/python3", "-c", kValidate, schema};
  argv.insert(argv.end(), files.begin(), files.end());
  return RunCommand(argv);
}

}  // namespace

TEST_CASE("schema: the binaries print the committed schemas", "[schema]") {
  struct Pair {
    std::vector<std::string> argv;
    std::string file;
  };
  for (const Pair& p :
       {Pair{{FWCANARY_BIN, "schema"}, "/scenarios/scenario.schema.json"},
        Pair{{FWCANARY_AGENT_BIN, "--schema"}, "/agents/workload-spec.schema.json"}}) {
    INFO(p.file);
    CommandResult r = RunCommand(p.argv);
    REQUIRE(r.exit_code == 0);
    std::ifstream in(kSource + p.file);
    std::string committed((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    CHECK(r.out == committed);  // ci/schemas writes them
  }
}

TEST_CASE(
    "schema: every shipped scenario, spec and firmware image is valid, a misspelt field is not",
    "[schema]") {
  struct Set {
    std::string schema;
    std::vector<std::string> files;
  };
  std::vector<Set> sets = {
      {kSource + "/scenarios/scenario.schema.json", Files(kSource + "/scenarios", ".yaml")},
      {kSource + "/agents/workload-spec.schema.json", Files(kSource + "/agents/examples", ".json")},
      {kSource + "/lab/firmware/firmware.schema.json", Files(kSource + "/lab/firmware", ".yaml")}};
  for (const Set& s : sets) {
    INFO(s.schema);
    REQUIRE(s.files.size() >= 3);
    CommandResult r = Validate(s.schema, s.files);
    INFO(r.out << r.err);
    CHECK(r.exit_code == 0);
    CHECK(static_cast<std::size_t>(std::count(r.out.begin(), r.out.end(), '\n')) == s.files.size());
  }
  // Not a rubber stamp: the mistakes the parser refuses, the schema refuses too.
  ScratchDir d;
  std::ifstream in(kSource + "/scenarios/demo.yaml");
  std::string demo((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  struct Bad {
    std::string from, to, where, field;
  };
  for (const Bad& b :
       {Bad{"  rate: 30", "  rtae: 30", "workload", "workload.rtae"},  // misspelt
        Bad{"  waves: [1, \"100%\"]", "  waves: [0]", "rollout/waves/0", "rollout.waves[0]"},
        Bad{"  engine: mail", "  engine: postmark", "workload/engine", "workload.engine"},
        Bad{"  user: fwlab", "  user: fwlab\n  password: hunter2",
            "ssh/password", "ssh.password"}}) {  // a secret
    INFO(b.to);
    std::string text = demo;
    std::size_t at = text.find(b.from);
    REQUIRE(at != std::string::npos);
    text.replace(at, b.from.size(), b.to);
    std::string path = d.path + "/bad.yaml";
    std::ofstream(path) << text;
    CommandResult r = Validate(kSource + "/scenarios/scenario.schema.json", {path});
    INFO(r.out << r.err);
    CHECK(r.exit_code == 1);
    CHECK(r.out.find("bad " + path + ": " + b.where) != std::string::npos);
    // ... and fwcanary itself refuses the same file, naming the same field.
    CommandResult plan = RunCommand({FWCANARY_BIN, "plan", path, "--inventory",
                                     kSource + "/scenarios/inventories/test-rack.ini"});
    INFO(plan.err);
    CHECK(plan.exit_code == 2);
    CHECK(plan.err.find("field '" + b.field + "'") != std::string::npos);
    CHECK(plan.err.find("hunter2") == std::string::npos);  // a secret is never echoed
  }
}
