#include "reports/render_run.h"

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "reports/history.h"
#include "reports/html_report.h"
#include "reports/junit.h"
#include "reports/markdown.h"
#include "reports/openmetrics.h"
#include "reports/run_model.h"

namespace fwcanary::reports {
namespace {

Status WriteAtomically(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    out.flush();
    if (!out) return Status::IOError(tmp + ": cannot write");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) return Status::IOError(path + ": cannot rename " + tmp + " into place");
  return Status::Ok();
}

}  // namespace

Result<std::vector<std::string>> RenderRunReports(const std::string& run_dir, const RenderOptions& o) {
  auto model = BuildRunModel(run_dir);
  if (!model.ok()) return model.status();
  const nlohmann::json& m = model.value();
  const std::vector<std::pair<std::string, std::string>> files = {
      // The model holds what nodes said (made safe already) and the user's scenario text: one
      // bad byte must cost a U+FFFD, never the report.
      {"report.json", m.dump(1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n"},
      {"junit.xml", RenderJUnit(m)},
      {"report.html", RenderHtml(m)},
      {"summary.md", RenderMarkdown(m)},
      {"metrics.prom", RenderOpenMetrics(m)}};
  std::vector<std::string> written;
  for (const auto& [name, text] : files) {
    if (Status s = WriteAtomically(run_dir + "/" + name, text); !s.ok()) return s;
    written.push_back(run_dir + "/" + name);
  }
  // Only finished runs enter the history: an interrupted one is finished later by resume.
  if (!o.history_db.empty() && m["run"].value("status", "") == "finished") {
    if (Status s = RecordRun(o.history_db, m, run_dir); !s.ok()) return Status::IOError("history: " + s.message());
    written.push_back(o.history_db);
  }
  return written;
}

}  // namespace fwcanary::reports
