#pragma once
// bench/judge --host-model: the judge's verdicts on its second synthetic model, case by case.

namespace fwcanary::judge {

// `n` judgments per case at `steady_s` + `surge_s` with `controls` control nodes.
void HostModelCases(int n, int steady_s, int surge_s, int controls);

}  // namespace fwcanary::judge
