#pragma once
// metrics.prom: the run's key figures in the Prometheus text format (OpenMetrics-compatible,
// ending "# EOF"), for node_exporter's textfile collector, so a lab's Grafana charts nightly runs.
// Every series is labelled with the scenario and the firmware version; values are the last run's.
//
// Thread safety: pure function.

#include <string>

#include <nlohmann/json.hpp>

namespace fwcanary::reports {

std::string RenderOpenMetrics(const nlohmann::json& model);

}  // namespace fwcanary::reports
