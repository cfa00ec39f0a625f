#pragma once
// Drift snapshots (drift-before-NODE.txt, drift-after-NODE.txt in a run directory): what each
// drift check printed, as "## <check>\n<output>\n" per check, readable by a person and parsed
// back by the reports. A node's output is untrusted: an output line that itself starts with
// "## " (or with the escape "\") is written with a "\" in front, so it can never pose as a
// check of its own.
//
// Thread safety: pure functions.

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace fwcanary::rundir {

std::string FormatDriftSnapshot(const std::vector<std::pair<std::string, std::string>>& checks);
// check -> output; the output without the newline that ends it.
std::map<std::string, std::string> ParseDriftSnapshot(const std::string& text);

}  // namespace fwcanary::rundir
