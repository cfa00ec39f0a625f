// fwcanary history: runs across nights and the canary's trend per metric (reports/history.h).
#include <cstdio>

#include "common/exit_status.h"
#include "harness/cli/commands.h"
#include "reports/history.h"

namespace fwcanary::cli {

std::function<int()> SetupHistory(CLI::App& app) {
  auto db = std::make_shared<std::string>("runs/history.db");
  auto q = std::make_shared<reports::HistoryQuery>();
  auto samples = std::make_shared<int>(0);
  app.add_option("--db", *db, "history.db (default runs/history.db; a scenario's reports.history)");
  app.add_option("--scenario", q->scenario, "only this scenario");
  app.add_option("--last", q->last, "runs per scenario (default 20)")->check(CLI::Range(1, 100000));
  app.add_option("--passing-samples", *samples,
                 "print the canary sample files of the last N passing runs of --scenario (a baseline for "
                 "`fwcanary compare`) instead of the trends")
      ->check(CLI::Range(1, 1000));
  return [db, q, samples] {
    if (*samples > 0) {
      if (q->scenario.empty()) {
        std::fprintf(stderr, "fwcanary history: --passing-samples needs --scenario\n");
        return static_cast<int>(kExitError);
      }
      auto files = reports::PassingRunSamples(*db, q->scenario, *samples);
      if (!files.ok()) {
        std::fprintf(stderr, "fwcanary history: %s\n", files.status().message().c_str());
        return static_cast<int>(kExitError);
      }
      for (const auto& f : files.value()) std::printf("%s\n", f.c_str());
      return static_cast<int>(kExitPass);
    }
    auto text = reports::RenderHistory(*db, *q);
    if (!text.ok()) {
      std::fprintf(stderr, "fwcanary history: %s\n", text.status().message().c_str());
      return static_cast<int>(kExitError);
    }
    std::fputs(text->c_str(), stdout);
    return static_cast<int>(kExitPass);
  };
}

}  // namespace fwcanary::cli
