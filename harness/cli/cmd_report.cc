// fwcanary report RUN_DIR: render (again) every form of a run's report from its directory
// (reports/render_run.h): a finished run, an interrupted one, or one still running.
#include <cstdio>

#include "common/exit_status.h"
#include "harness/cli/commands.h"
#include "rundir/journal.h"
#include "reports/render_run.h"

namespace fwcanary::cli {

std::function<int()> SetupReport(CLI::App& app) {
  auto dir = std::make_shared<std::string>();
  auto history = std::make_shared<std::string>();
  auto no_history = std::make_shared<bool>(false);
  app.add_option("run_dir", *dir, "the run directory (holds journal.db)")->required();
  app.add_option("--history", *history, "history.db to record the run in (default: the run's own)");
  app.add_flag("--no-history", *no_history, "do not touch the history");
  app.footer("Writes report.json, junit.xml, report.html, summary.md and metrics.prom into RUN_DIR.");
  return [dir, history, no_history] {
    reports::RenderOptions o;
    if (!*no_history) {
      o.history_db = *history;
      if (o.history_db.empty()) {
        auto j = journal::Journal::Open(*dir + "/journal.db");
        if (j.ok()) o.history_db = j.value()->Fact("history").value_or("");
      }
    }
    auto files = reports::RenderRunReports(*dir, o);
    if (!files.ok()) {
      std::fprintf(stderr, "fwcanary report: %s\n", files.status().message().c_str());
      return static_cast<int>(kExitError);
    }
    for (const auto& f : files.value()) std::printf("%s\n", f.c_str());
    return static_cast<int>(kExitPass);
  };
}

}  // namespace fwcanary::cli
