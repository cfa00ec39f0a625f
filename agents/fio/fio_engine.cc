#include "agents/fio/fio_engine.h"

#include <chrono>
#include <cmath>
#include <fstream>
#include <map>

#include "agents/fio/fio_job.h"
#include "agents/fs_space.h"
#include "agents/fio/fio_json.h"
#include "agents/progress.h"
#include "common/child_process.h"

namespace fwcanary {
namespace {

using Clock = std::chrono::steady_clock;

// What one phase's fio left: its documents turned into interval records (already emitted), and
// why it went wrong, if it did (a partial phase still counts: engine.h's contract).
struct FioPhase {
  std::map<std::string, OpStats> total;
  Status error;
};

}  // namespace

const EngineInfo& FioEngine::info() const {
  static const EngineInfo kInfo{"fio", 1, {"deliver", "retrieve"}, false, true,
                                "fio closed-loop capacity: small-file create+write+fsync, read"};
  return kInfo;
}

Result<SummaryRecord> FioEngine::Run(const WorkloadSpec& spec, const WorkDir& workdir,
                                     RecordSink& sink, const std::atomic<bool>& stop) {
  const std::string fio = FindProgram(spec.fio.binary);
  if (fio.empty()) {
    return Status::NotFound("fio binary '" + spec.fio.binary +
                            "' not found (install Debian's fio package or set fio.binary)");
  }
  for (const auto& p : spec.phases) {
    if (p.open_ended) {
      return Status::InvalidArgument("phase '" + p.name +
                                     "': open_ended needs the mail engine (a fio job runs its full time)");
    }
  }
  if (Status s = workdir.MakeDirs("fio"); !s.ok()) return s;
  Progress progress;
  SummaryRecord sum;
  sum.node = spec.node;
  sum.engine = "fio";
  const int jobs = std::max(1, spec.concurrency);
  FillFilesystemSpace(workdir.path(), sum.space_start);
  const auto run_start = Clock::now();
  std::map<std::string, OpStats> total;
  std::size_t emitted = 0;  // interval records written, over every phase
  Status failed;

  for (const Phase& phase : spec.phases) {
    PhaseSummary ps;
    ps.name = phase.name;
    ps.drain = phase.drain;
    if (phase.drain) {  // a closed loop leaves no backlog to drain
      ps.drain_time_s = 0.0;
      sum.phases.push_back(ps);
      continue;
    }
    std::string job_path = workdir.Sub("fio-job.fio");
    {
      std::ofstream out(job_path);
      out << MakeFioJob(spec, phase, workdir.Sub("fio"), jobs);
      if (!out) {
        failed = Status::IOError("cannot write " + job_path);
        break;
      }
    }
    progress.Log("phase " + phase.name + ": fio, " + std::to_string(jobs) + " job(s) per class");
    const double interval = std::max(1.0, std::round(spec.interval_s));
    const double limit_s = phase.duration_s + spec.fio.timeout_slack_s;

    JsonDocumentSplitter splitter;
    FioSnapshot prev;
    FioPhase got;
    const auto phase_start = Clock::now();
    ChildOptions o;
    o.timeout_s = limit_s;           // SIGKILL to fio's group past the deadline
    o.interrupt = &stop;             // SIGINT on stop: fio then prints its final stats
    o.max_kept = 8192;               // of stderr (and of one line: fio's JSON lines are short)
    o.on_line = [&](const std::string& line) {
      for (const std::string& d : splitter.Feed(line + "\n")) {
        nlohmann::json doc;
        try {
          doc = nlohmann::json::parse(d);
        } catch (const nlohmann::json::exception& e) {
          got.error = Status::InvalidArgument(std::string("fio output: ") + e.what());
          continue;
        }
        auto snap = ParseFioDocument(doc);
        if (!snap.ok()) {
          got.error = snap.status();
          continue;
        }
        // Documents printed while fio lays out its files carry no I/O: they set the baseline.
        if (snap->total_ops() == 0) {
          prev = std::move(snap.value());
          continue;
        }
        if (prev.timestamp_s == 0) prev.timestamp_s = snap->timestamp_s - interval;
        double dt = snap->timestamp_s - prev.timestamp_s;
        if (dt <= 0) continue;
        IntervalRecord r;
        r.node = spec.node;
        r.engine = "fio";
        r.phase = phase.name;
        r.t = std::chrono::duration<double>(Clock::now() - run_start).count();
        r.dt = dt;
        r.ops = DiffSnapshots(prev, snap.value());
        uint64_t n = 0;
        for (const auto& [cls, st] : r.ops) n += st.count;
        r.achieved_rate = static_cast<double>(n) / dt;
        r.offered_rate = r.achieved_rate;  // closed loop: arrivals are completions
        FillFilesystemSpace(workdir.path(), r.space);
        for (const auto& [cls, st] : r.ops) got.total[cls].Merge(st);
        sink.Emit(r.ToJson());
        ++emitted;
        progress.Update(phase.name + " t=" + std::to_string(static_cast<int>(r.t)) + "s fio " +
                        std::to_string(static_cast<int>(r.achieved_rate)) + " ops/s");
        prev = std::move(snap.value());
      }
      return true;
    };
    auto child = RunChild({fio, "--output-format=json+",
                           "--status-interval=" + std::to_string(static_cast<int>(interval)),
                           job_path},
                          o);
    progress.Finish();
    if (!child.ok()) {
      failed = Status::Unavailable(child.status().message());
    } else if (child->timed_out) {
      failed = Status::Timeout("fio did not finish within " +
                               std::to_string(static_cast<int>(limit_s)) + " s; killed");
    } else if (child->exit_code != 0 && !stop.load()) {
      std::string why = child->exit_code >= 0 ? "exited with status " + std::to_string(child->exit_code)
                                              : "was killed by signal " + std::to_string(child->signal);
      failed = Status::Unavailable("fio " + why + ": " +
                                   (child->err.empty() ? "(no stderr)" : child->err));
    } else if (!got.error.ok()) {
      failed = got.error;
    }
    ps.duration_s = std::chrono::duration<double>(Clock::now() - phase_start).count();
    uint64_t n = 0;
    for (const auto& [cls, st] : got.total) n += st.count;
    ps.achieved_rate = ps.duration_s > 0 ? static_cast<double>(n) / ps.duration_s : 0;
    ps.offered_rate = ps.achieved_rate;
    ps.ops = got.total;
    for (const auto& [cls, st] : got.total) total[cls].Merge(st);
    sum.phases.push_back(ps);
    if (!failed.ok()) break;
    if (stop.load()) {
      sum.status = "stopped";
      sum.error = "stopped by signal";
      break;
    }
  }
  // engine.h: a bare error only when nothing was measured; after intervals, a partial summary.
  if (!failed.ok() && emitted == 0) return failed;
  if (!failed.ok()) {
    sum.status = "error";
    sum.error = failed.message();
  }
  sum.ops = total;
  FillFilesystemSpace(workdir.path(), sum.space);
  sum.duration_s = std::chrono::duration<double>(Clock::now() - run_start).count();
  uint64_t n = 0;
  for (const auto& [cls, st] : total) n += st.count;
  sum.achieved_rate = sum.duration_s > 0 ? static_cast<double>(n) / sum.duration_s : 0;
  return sum;
}

}  // namespace fwcanary
