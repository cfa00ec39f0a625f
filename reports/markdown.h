#pragma once
// summary.md: the go/no-go in a few lines, for a pull request, a ticket or a change record:
// the verdict and its reason, the waves, what failed (at most ten metrics, worst first), drift
// and integrity, and where the full report is.
//
// Thread safety: pure function.

#include <string>

#include <nlohmann/json.hpp>

namespace fwcanary::reports {

std::string RenderMarkdown(const nlohmann::json& model);

}  // namespace fwcanary::reports
