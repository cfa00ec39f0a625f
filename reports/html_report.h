#pragma once
// report.html: one self-contained page (inline CSS and SVG; no script, no font, nothing fetched
// at view time), readable by the ops engineer deciding tonight's maintenance window and the
// vendor engineer reading last night's run:
//   the verdict and its reason at the top; the waves; a timeline of stages and node states;
//   per wave and operation class: throughput and p99 over time (baseline vs canary vs control,
//   phases shaded, upgrade and reboot markers in the "during" window) and latency CDFs; queue
//   depth and drain time; space per stored message; the judge's evidence; drift diffs;
//   integrity; the event log.
//
// Thread safety: pure function.

#include <string>

#include <nlohmann/json.hpp>

namespace fwcanary::reports {

std::string RenderHtml(const nlohmann::json& model);

}  // namespace fwcanary::reports
