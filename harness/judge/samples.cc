#include "harness/judge/samples.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "agents/fio/fio_json.h"
#include "agents/records/judged_intervals.h"

namespace fwcanary::judge {

const Window* Run::FindWindow(const std::string& phase) const {
  for (const auto& w : windows) {
    if (w.phase == phase) return &w;
  }
  return nullptr;
}

namespace {

Window& WindowFor(Run& run, const std::string& phase) {
  for (auto& w : run.windows) {
    if (w.phase == phase) return w;
  }
  run.windows.push_back(Window{phase, {}, false, std::nullopt});
  return run.windows.back();
}

}  // namespace

Result<std::vector<Run>> ParseAgentRecords(const std::string& text, const std::string& source,
                                           const LoadOptions& opts) {
  std::map<std::string, Run> by_node;
  std::map<std::string, std::vector<IntervalRecord>> intervals;  // by node, in record order
  std::map<std::string, std::set<std::string>> drains;          // by node
  std::map<std::string, std::set<std::string>> ramps;           // by node: its ramp phases
  std::vector<std::string> order;
  std::istringstream in(text);
  std::string line;
  int n = 0;
  auto run_for = [&](const std::string& node) -> Run& {
    auto it = by_node.find(node);
    if (it == by_node.end()) {
      order.push_back(node);
      it = by_node.emplace(node, Run{}).first;
      it->second.id = source;
      it->second.node = node;
    }
    return it->second;
  };
  while (std::getline(in, line)) {
    ++n;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    Result<Record> rec = ParseRecordLine(line);
    if (!rec.ok()) {
      if (rec.status().code() == Status::Code::kNotFound) continue;  // a newer record type
      return Status::InvalidArgument(source + ":" + std::to_string(n) + ": " +
                                     rec.status().message());
    }
    if (auto* iv = std::get_if<IntervalRecord>(&rec.value())) {
      if (iv->ramp_step > 0) ramps[iv->node].insert(iv->phase);
      else WindowFor(run_for(iv->node), iv->phase);  // windows in the order their phases appear
      intervals[iv->node].push_back(std::move(*iv));
    } else if (auto* s = std::get_if<SummaryRecord>(&rec.value())) {
      Run& run = run_for(s->node);
      run.has_summary = true;
      run.lost = s->lost;
      run.corrupt = s->corrupt;
      if (s->status != "ok") run.error = s->error;
      for (const auto& p : s->phases) {
        Window& w = WindowFor(run, p.name);
        w.drain = p.drain;
        w.drain_time_s = p.drain_time_s;
        if (p.drain) drains[s->node].insert(p.name);
      }
    }
  }
  std::vector<Run> out;
  for (const auto& node : order) {
    Run run = std::move(by_node[node]);
    // Slivers and the warm-up are left out by the rule the reports share (judged_intervals.h).
    std::vector<IntervalRecord>& all = intervals[node];
    const std::vector<bool> judged =
        JudgedIntervals(all, drains[node], WarmupRule{opts.warmup_s, opts.warmup_fraction});
    for (std::size_t i = 0; i < all.size(); ++i) {
      if (!judged[i]) continue;
      if (all[i].ramp_step > 0) run.ramp.push_back(std::move(all[i]));
      else WindowFor(run, all[i].phase).intervals.push_back(std::move(all[i]));
    }
    // The summary names every phase, a ramp too: it is no window.
    std::erase_if(run.windows, [&](const Window& w) { return ramps[node].count(w.phase) > 0; });
    out.push_back(std::move(run));
  }
  if (out.empty()) return Status::InvalidArgument(source + ": no agent records");
  return out;
}

Result<std::vector<Run>> ParseFioRuns(const std::string& text, const std::string& source) {
  Result<std::vector<FioSnapshot>> snaps = ParseFioOutput(text);
  if (!snaps.ok()) return Status::InvalidArgument(source + ": " + snaps.status().message());
  if (snaps->empty()) return Status::InvalidArgument(source + ": no fio JSON document");
  Run run;
  run.id = source;
  run.node = "fio";
  run.has_summary = true;
  Window w{"fio", {}, false, std::nullopt};
  FioSnapshot zero;
  const FioSnapshot* prev = &zero;
  for (const auto& s : snaps.value()) {
    IntervalRecord r;
    r.node = "fio";
    r.engine = "fio";
    r.phase = "fio";
    r.t = s.runtime_s;
    r.dt = s.runtime_s - prev->runtime_s;
    if (r.dt <= 0) continue;
    r.ops = DiffSnapshots(*prev, s);
    uint64_t total = 0;
    for (const auto& [cls, st] : r.ops) total += st.count;
    r.achieved_rate = static_cast<double>(total) / r.dt;
    w.intervals.push_back(std::move(r));
    prev = &s;
  }
  for (const auto& [job, err] : snaps->back().job_errors) {
    if (err != 0) run.error += "fio job " + job + " error " + std::to_string(err) + "; ";
  }
  run.windows.push_back(std::move(w));
  return std::vector<Run>{std::move(run)};
}

Result<std::vector<Run>> LoadRuns(const std::string& path, const LoadOptions& opts) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    std::vector<std::string> files;
    for (const std::string& dir : {path, path + "/samples"}) {
      if (!fs::is_directory(dir, ec)) continue;
      for (const auto& e : fs::directory_iterator(dir, ec)) {
        std::string ext = e.path().extension().string();
        if (e.is_regular_file() && (ext == ".jsonl" || ext == ".json")) {
          files.push_back(e.path().string());
        }
      }
    }
    std::sort(files.begin(), files.end());
    if (files.empty()) return Status::NotFound(path + ": no *.jsonl or *.json runs in it");
    std::vector<Run> all;
    for (const auto& f : files) {
      Result<std::vector<Run>> runs = LoadRuns(f, opts);
      if (!runs.ok()) return runs.status();
      for (auto& r : runs.value()) all.push_back(std::move(r));
    }
    return all;
  }
  std::ifstream in(path);
  if (!in) return Status::NotFound(path + ": cannot open");
  std::ostringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  // fio output is one or more pretty-printed JSON documents (possibly after warnings); agent
  // records are one JSON object per line with a "type".
  bool is_fio = text.find("\"fio version\"") != std::string::npos;
  return is_fio ? ParseFioRuns(text, path) : ParseAgentRecords(text, path, opts);
}

}  // namespace fwcanary::judge
