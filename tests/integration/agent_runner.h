#pragma once
// Runs the real fwcanary-agent binary (FWCANARY_AGENT_BIN) as a child process and collects its
// records, stderr and exit status, for the integration tests.

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace fwcanary::testing {

struct AgentRun {
  int exit_code = -1;
  std::vector<nlohmann::json> records;  // every stdout line, parsed
  std::string stderr_text;

  const nlohmann::json& summary() const;  // REQUIRES: the last record is a summary
  std::vector<nlohmann::json> intervals(const std::string& phase = "") const;
};

// Runs the agent with `args`, feeding `stdin_text`; kills it after `timeout_s`.
// `after_start`, if set, is called with the child's pid once it runs (to signal it).
AgentRun RunAgent(const std::vector<std::string>& args, const std::string& stdin_text = "",
                  double timeout_s = 120, void (*after_start)(int pid) = nullptr);

// Parses JSON lines (agent records) into values; throws on a malformed line.
std::vector<nlohmann::json> ParseRecords(const std::string& jsonl);

// A fresh directory under /tmp, removed (with everything in it) when destroyed.
struct ScratchDir {
  std::string path;
  ScratchDir();
  ~ScratchDir();
};

}  // namespace fwcanary::testing
