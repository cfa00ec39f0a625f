#include "agents/fio/fio_engine.h"

#include <signal.h>

#include <chrono>
#include <condition_variable>
#include <fstream>
#include <mutex>
#include <thread>

#include <boost/process.hpp>

#include "agents/fio/fio_job.h"
#include "agents/fs_space.h"
#include "agents/fio/fio_json.h"
#include "agents/progress.h"

namespace fwcanary {
namespace bp = boost::process;

namespace {

using Clock = std::chrono::steady_clock;

struct PhaseResult {
  std::vector<IntervalRecord> intervals;
  FioSnapshot final_snapshot;
};

}  // namespace

const EngineInfo& FioEngine::info() const {
  static const EngineInfo kInfo{"fio", 1, {"deliver", "retrieve"}, false, true,
                                "fio closed-loop capacity: small-file create+write+fsync, read"};
  return kInfo;
}

Result<SummaryRecord> FioEngine::Run(const WorkloadSpec& spec, const WorkDir& workdir,
                                     RecordSink& sink, const std::atomic<bool>& stop) {
  boost::filesystem::path fio = spec.fio.binary.find('/') != std::string::npos
                                    ? boost::filesystem::path(spec.fio.binary)
                                    : bp::search_path(spec.fio.binary);
  if (fio.empty() || !boost::filesystem::exists(fio)) {
    return Status::NotFound("fio binary '" + spec.fio.binary +
                            "' not found (install Debian's fio package or set fio.binary)");
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
      if (!out) return Status::IOError("cannot write " + job_path);
    }
    progress.Log("phase " + phase.name + ": fio, " + std::to_string(jobs) + " job(s) per class");
    double interval = std::max(1.0, std::round(spec.interval_s));
    bp::ipstream out_stream, err_stream;
    std::error_code ec;
    bp::child child(fio, "--output-format=json+",
                    "--status-interval=" + std::to_string(static_cast<int>(interval)), job_path,
                    bp::std_out > out_stream, bp::std_err > err_stream, ec);
    if (ec) return Status::Unavailable("cannot start " + fio.string() + ": " + ec.message());

    // Watchdog: SIGINT on stop (fio then prints its final stats), SIGKILL past the deadline.
    std::mutex mu;
    std::condition_variable cv;
    bool finished = false, timed_out = false;
    auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                       std::chrono::duration<double>(phase.duration_s +
                                                                     spec.fio.timeout_slack_s));
    std::thread watchdog([&] {
      std::unique_lock<std::mutex> l(mu);
      bool interrupted = false;
      while (!finished) {
        if (Clock::now() >= deadline) {
          timed_out = true;
          child.terminate(ec);
          return;
        }
        if (stop.load() && !interrupted) {
          ::kill(child.id(), SIGINT);
          interrupted = true;
        }
        cv.wait_for(l, std::chrono::milliseconds(100));
      }
    });
    std::string err_text;
    std::thread err_reader([&] {
      std::string line;
      while (std::getline(err_stream, line)) {
        if (err_text.size() < 8192) err_text += line + "\n";
      }
    });

    JsonDocumentSplitter splitter;
    FioSnapshot prev;
    std::map<std::string, OpStats> phase_total;
    std::string line;
    const auto phase_start = Clock::now();
    Status parse_status;
    while (std::getline(out_stream, line)) {
      for (const std::string& d : splitter.Feed(line + "\n")) {
        nlohmann::json doc;
        try {
          doc = nlohmann::json::parse(d);
        } catch (const nlohmann::json::exception& e) {
          parse_status = Status::InvalidArgument(std::string("fio output: ") + e.what());
          continue;
        }
        auto snap = ParseFioDocument(doc);
        if (!snap.ok()) {
          parse_status = snap.status();
          continue;
        }
        // Documents printed while fio lays out its files carry no I/O: they set the baseline.
        if (snap->total_ops() == 0 || prev.timestamp_s == 0) {
          if (snap->total_ops() == 0) {
            prev = std::move(snap.value());
            continue;
          }
          if (prev.timestamp_s == 0) prev.timestamp_s = snap->timestamp_s - interval;
        }
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
        for (const auto& [cls, s] : r.ops) n += s.count;
        r.achieved_rate = static_cast<double>(n) / dt;
        r.offered_rate = r.achieved_rate;  // closed loop: arrivals are completions
        FillFilesystemSpace(workdir.path(), r.space);
        for (const auto& [cls, s] : r.ops) phase_total[cls].Merge(s);
        sink.Emit(r.ToJson());
        progress.Update(phase.name + " t=" + std::to_string(static_cast<int>(r.t)) + "s fio " +
                        std::to_string(static_cast<int>(r.achieved_rate)) + " ops/s");
        prev = std::move(snap.value());
      }
    }
    child.wait(ec);
    {
      std::lock_guard<std::mutex> l(mu);
      finished = true;
    }
    cv.notify_all();
    watchdog.join();
    err_reader.join();
    progress.Finish();
    int code = child.exit_code();
    if (timed_out) {
      return Status::Timeout("fio did not finish within " +
                             std::to_string(static_cast<int>(phase.duration_s +
                                                             spec.fio.timeout_slack_s)) +
                             " s; killed");
    }
    if (code != 0 && !stop.load()) {
      return Status::Unavailable("fio exited with status " + std::to_string(code) + ": " +
                                 (err_text.empty() ? "(no stderr)" : err_text));
    }
    if (!parse_status.ok()) return parse_status;
    ps.duration_s = std::chrono::duration<double>(Clock::now() - phase_start).count();
    uint64_t n = 0;
    for (const auto& [cls, s] : phase_total) n += s.count;
    ps.achieved_rate = ps.duration_s > 0 ? static_cast<double>(n) / ps.duration_s : 0;
    ps.offered_rate = ps.achieved_rate;
    ps.ops = phase_total;
    for (const auto& [cls, s] : phase_total) total[cls].Merge(s);
    sum.phases.push_back(ps);
    if (stop.load()) {
      sum.status = "stopped";
      sum.error = "stopped by signal";
      break;
    }
  }
  sum.ops = total;
  FillFilesystemSpace(workdir.path(), sum.space);
  sum.duration_s = std::chrono::duration<double>(Clock::now() - run_start).count();
  uint64_t n = 0;
  for (const auto& [cls, s] : total) n += s.count;
  sum.achieved_rate = sum.duration_s > 0 ? static_cast<double>(n) / sum.duration_s : 0;
  return sum;
}

}  // namespace fwcanary
