#pragma once
// Renders a JudgeResult: the verdict table for a terminal, and JSON for machines (the shape
// reports/ builds on; versioned by "judge_version").
//
// Thread safety: pure functions.

#include <string>

#include <nlohmann/json.hpp>

#include "harness/judge/judge.h"

namespace fwcanary::judge {

inline constexpr int kJudgeJsonVersion = 1;

nlohmann::json ToJson(const JudgeResult& r, const JudgeConfig& cfg);
// One line per judged metric (all of them with `verbose`, else FAIL and INCONCLUSIVE plus a
// count of PASSes), then the overall verdict and its reason.
std::string RenderTable(const JudgeResult& r, bool verbose);

}  // namespace fwcanary::judge
