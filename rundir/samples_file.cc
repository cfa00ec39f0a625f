#include "rundir/samples_file.h"

#include <set>
#include <sstream>

#include "common/file_text.h"
#include "rundir/run_layout.h"

namespace fwcanary::rundir {

SamplesFile ReadSamplesFile(const std::string& path, const WarmupRule& warmup) {
  SamplesFile r;
  r.file = RunLayout::SamplesDisplayName(path);
  auto text = ReadTextFile(path);
  if (!text.ok()) {
    r.error = text.status().message();
    return r;
  }
  std::istringstream in(text.value());
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (line.empty()) continue;
    auto rec = ParseRecordLine(line);
    if (!rec.ok()) {
      // A line cut by a killed controller ends a file; anything else is worth saying.
      if (rec.status().code() != Status::Code::kNotFound && r.error.empty()) {
        r.error = r.file + ":" + std::to_string(n) + ": " + rec.status().message();
      }
      continue;
    }
    if (auto* i = std::get_if<IntervalRecord>(&rec.value())) r.intervals.push_back(std::move(*i));
    if (auto* s = std::get_if<SummaryRecord>(&rec.value())) r.summary = std::move(*s);
  }
  std::set<std::string> drains;
  if (r.summary) {
    for (const auto& p : r.summary->phases) {
      if (p.drain) drains.insert(p.name);
    }
  }
  r.judged = JudgedIntervals(r.intervals, drains, warmup);
  return r;
}

}  // namespace fwcanary::rundir
