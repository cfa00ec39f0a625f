#pragma once
// The result model: one run directory (journal.db, samples/, verdict-wave<N>.json,
// drift-*.txt) read back into one JSON document. It is report.json as written, its shape is
// reports/report.schema.json (versioned by "report_version"), and every other form (JUnit,
// HTML, Markdown, OpenMetrics, history) is rendered from it and from nothing else, so the forms
// never disagree. Reading only the run directory is what makes `fwcanary report RUN_DIR` able to
// re-render a run (finished, interrupted or still running) anywhere, later.
//
// Thread safety: pure function of the files.

#include <string>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace fwcanary::reports {

inline constexpr int kReportVersion = 1;

// Builds the model. Errors name the file that could not be read; a window whose samples are
// missing or malformed is kept with its error (a report of a broken run is still a report).
Result<nlohmann::json> BuildRunModel(const std::string& run_dir);

// "PASS", "FAIL", "ERROR", "INCONCLUSIVE" for exit codes 0, 1, 2, 3.
std::string VerdictForExitCode(int code);

// The model's text field `key` of `j`, or "" when `j` has none (optional fields are absent,
// not null): what every renderer reads strings with.
std::string ModelString(const nlohmann::json& j, const char* key);

}  // namespace fwcanary::reports
