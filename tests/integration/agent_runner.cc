#include "tests/integration/agent_runner.h"

#include <unistd.h>

#include <filesystem>
#include <sstream>
#include <stdexcept>

#include "tests/integration/command.h"

namespace fwcanary::testing {

const nlohmann::json& AgentRun::summary() const {
  if (records.empty() || records.back().value("type", "") != "summary") {
    throw std::runtime_error("no summary record; stderr: " + stderr_text);
  }
  return records.back();
}

std::vector<nlohmann::json> AgentRun::intervals(const std::string& phase) const {
  std::vector<nlohmann::json> out;
  for (const auto& r : records) {
    if (r.value("type", "") == "interval" && (phase.empty() || r.value("phase", "") == phase)) {
      out.push_back(r);
    }
  }
  return out;
}

AgentRun RunAgent(const std::vector<std::string>& args, const std::string& stdin_text,
                  double timeout_s, void (*after_start)(int pid)) {
  std::vector<std::string> argv = {FWCANARY_AGENT_BIN};
  argv.insert(argv.end(), args.begin(), args.end());
  CommandOptions opts;
  opts.stdin_text = stdin_text;
  opts.timeout_s = timeout_s;
  opts.after_start = after_start;
  CommandResult r = RunCommand(argv, opts);
  AgentRun run;
  run.exit_code = r.exit_code;
  run.stderr_text = r.err;
  run.records = ParseRecords(r.out);
  return run;
}

std::vector<nlohmann::json> ParseRecords(const std::string& jsonl) {
  std::vector<nlohmann::json> out;
  std::istringstream in(jsonl);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) out.push_back(nlohmann::json::parse(line));
  }
  return out;
}

ScratchDir::ScratchDir() {
  char tmpl[] = "/tmp/fwcanary-it-XXXXXX";
  path = ::mkdtemp(tmpl);
}

ScratchDir::~ScratchDir() {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
}

}  // namespace fwcanary::testing
