#pragma once
// What the controller's lab tests share: short scenarios made from demo.yaml, a node's fwsim
// status fields, the one run directory, files that contain a string.

#include <string>
#include <utility>
#include <vector>

#include "tests/integration/test_lab.h"

namespace fwcanary::testing {

// One field of `fwsim-node status` on the node ("flashes", "firmware"); "" when absent.
std::string StatusField(const TestLab& lab, int node, const std::string& field);
std::string ReadAll(const std::string& path);

// demo.yaml with short windows (15 s steady, 8 s surge, 5 s drain), without its service levels
// (too short to bound them), and `edits` applied
// (text -> replacement, each must be found), written into the lab directory.
std::string ShortScenario(const TestLab& lab, const std::string& name,
                          const std::vector<std::pair<std::string, std::string>>& edits = {});

// The controller's PASS path on short windows: gate on throughput and errors with room for the
// short windows' noise (the judge's sensitivity is tested on its own; here the rollout is).
extern const std::pair<std::string, std::string> kPassJudge;
extern const std::pair<std::string, std::string> kPassTolerances;
// The lab's flash takes its node down within a second of the ack: 5 s without a sign means the
// upgrade never left (the default 20 s is for real arrays).
extern const std::pair<std::string, std::string> kQuickResend;

// Service levels (`slo:` list entries, two spaces' indent) for a short scenario.
std::pair<std::string, std::string> WithServiceLevels(const std::string& items);

// The one run directory under `runs` (REQUIREs exactly one).
std::string OnlyRunDir(const std::string& runs);
std::vector<std::string> FilesContaining(const std::string& dir, const std::string& needle);

}  // namespace fwcanary::testing
