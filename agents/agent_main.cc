#include "agents/agent_main.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include <CLI/CLI.hpp>

#include "agents/engine.h"
#include "agents/record_sink.h"
#include "agents/spec/workload_spec.h"
#include "agents/workdir.h"
#include "agents/workdir_fill.h"
#include "common/exit_status.h"
#include "fwcanary/version.h"

namespace fwcanary {
namespace {

std::atomic<bool> g_stop{false};

extern "C" void OnStopSignal(int) { g_stop.store(true); }

void InstallSignals() {
  struct sigaction sa {};
  sa.sa_handler = OnStopSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);  // a reader that went away must not kill us mid-write
}

int Fail(const std::string& msg) {
  std::fprintf(stderr, "fwcanary-agent: error: %s\n", msg.c_str());
  return kExitError;
}

// --duration over explicit phases: scale the timed (non-drain) phases to sum to S.
void ApplyDuration(WorkloadSpec& spec, double seconds) {
  double timed = 0;
  for (const Phase& p : spec.phases) {
    if (!p.drain) timed += p.duration_s;
  }
  for (Phase& p : spec.phases) {
    if (!p.drain && timed > 0) p.duration_s = p.duration_s * seconds / timed;
  }
}

bool SameFilesystem(const std::string& a, const std::string& b) {
  struct stat sa {}, sb {};
  return ::stat(a.c_str(), &sa) == 0 && ::stat(b.c_str(), &sb) == 0 && sa.st_dev == sb.st_dev;
}

}  // namespace

int AgentMain(int argc, char** argv) {
  CLI::App app{"fwcanary-agent: replays mail-server I/O on storage and streams JSON records"};
  std::string spec_path, workdir, engine, node, fill_dir;
  double rate = -1, duration = -1;
  int64_t seed = -1;
  bool cleanup = false, help_spec = false, version = false;
  app.add_option("--spec", spec_path, "workload spec (JSON file, or - for stdin)");
  app.add_option("--workdir", workdir, "work directory (created and marked, or already marked)");
  app.add_option("--fill-dir", fill_dir,
                 "a work directory of its own for the fill_to filler, on the work directory's "
                 "filesystem, that --cleanup leaves alone (a controller keeps one filler for all "
                 "of a run's windows; remove it with --workdir DIR --cleanup)");
  app.add_option("--rate", rate, "base arrival rate, ops/s (overrides the spec)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--duration", duration, "run length in s: scales the timed phases")
      ->check(CLI::PositiveNumber);
  std::string engine_names;
  for (const std::string& e : EngineNames()) engine_names += (engine_names.empty() ? "" : " | ") + e;
  app.add_option("--engine", engine, engine_names + " (overrides the spec)")
      ->check(CLI::IsMember(EngineNames()));
  app.add_option("--node", node, "node name in the records (overrides the spec)");
  app.add_option("--seed", seed, "random seed (overrides the spec)")->check(CLI::NonNegativeNumber);
  app.add_flag("--cleanup", cleanup,
               "afterwards remove what agents wrote in the work directory; without --spec: "
               "only clean up");
  app.add_flag("--help-spec", help_spec, "print the workload spec fields and exit");
  bool schema = false;
  app.add_flag("--schema", schema, "print the workload spec as a JSON Schema and exit");
  app.add_flag("--version", version, "print the version and exit");
  std::string engines = "\nEngines:\n";
  for (const EngineInfo& e : ListEngines()) {
    engines += "  " + std::string(e.name) + " v" + std::to_string(e.version) + ": " + e.summary + "\n";
  }
  app.footer(engines +
             "\nExit status: 0 completed, every message accounted for; 1 a message lost or "
             "corrupt; 2 error.\nRecords: JSON lines on stdout (agents/README.md); progress on stderr.");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? kExitPass : kExitError;
  }
  if (version) {
    std::printf("fwcanary-agent %s (record format v%d)\n", FWCANARY_VERSION, kRecordVersion);
    return kExitPass;
  }
  if (help_spec) {
    std::printf("%s", DescribeWorkloadSpec().c_str());
    return kExitPass;
  }
  if (schema) {
    std::printf("%s\n", WorkloadSpecDocumentSchema().dump(2).c_str());
    return kExitPass;
  }

  if (spec_path.empty()) {
    if (cleanup && !workdir.empty()) {
      auto wd = WorkDir::Open(workdir);
      if (!wd.ok()) return Fail(wd.status().message());
      std::vector<std::string> left;
      if (Status s = wd->Cleanup(&left); !s.ok()) return Fail(s.message());
      for (const auto& l : left) std::fprintf(stderr, "fwcanary-agent: left in place: %s\n", l.c_str());
      return kExitPass;
    }
    return Fail("--spec FILE (or - for stdin) is required; see --help");
  }

  std::string text, source = spec_path;
  if (spec_path == "-") {
    source = "<stdin>";
    std::ostringstream ss;
    ss << std::cin.rdbuf();
    text = ss.str();
  } else {
    std::ifstream in(spec_path);
    if (!in) return Fail("cannot read spec " + spec_path);
    std::ostringstream ss;
    ss << in.rdbuf();
    text = ss.str();
  }
  auto parsed = ParseWorkloadSpec(text, source);
  if (!parsed.ok()) return Fail(parsed.status().message());
  WorkloadSpec spec = parsed.value();
  if (!workdir.empty()) spec.workdir = workdir;
  if (!engine.empty()) spec.engine = engine;
  if (!node.empty()) spec.node = node;
  if (rate >= 0) spec.rate = rate;
  if (seed >= 0) spec.seed = static_cast<uint64_t>(seed);
  if (duration > 0) {
    spec.duration_s = duration;
    ApplyDuration(spec, duration);
  }
  if (spec.node.empty()) {
    char host[256] = {};
    ::gethostname(host, sizeof(host) - 1);
    spec.node = host;
  }
  if (Status s = ValidateWorkloadSpec(spec); !s.ok()) return Fail(s.message());

  auto wd = WorkDir::Open(spec.workdir);
  if (!wd.ok()) return Fail(wd.status().message());
  spec.workdir = wd->path();
  std::unique_ptr<Engine> eng = MakeEngine(spec.engine);
  if (!eng) return Fail("unknown engine " + spec.engine);

  InstallSignals();
  StreamRecordSink sink(stdout, [] {
    std::fprintf(stderr, "fwcanary-agent: the reader of the records went away: stopping\n");
    g_stop.store(true);
  });
  StartRecord start;
  start.node = spec.node;
  start.engine = spec.engine;
  start.agent_version = FWCANARY_VERSION;
  start.spec = spec.ToJson();
  sink.Emit(start.ToJson());

  if (spec.fill_to > 0) {
    // The filler outlives this run's work directory when --fill-dir gives it one of its own.
    Result<WorkDir> fill_wd = fill_dir.empty() ? wd : WorkDir::Open(fill_dir);
    if (!fill_wd.ok()) return Fail("--fill-dir: " + fill_wd.status().message());
    if (!SameFilesystem(fill_wd->path(), wd->path())) {
      return Fail("--fill-dir " + fill_wd->path() + " is not on the work directory's filesystem (" +
                  wd->path() + "): filling it would not fill the storage under test");
    }
    // The mail must still fit: the queue's minimum free space four times over, 64 MiB at least.
    Progress fill_progress;
    Result<uint64_t> filled =
        FillWorkDir(fill_wd.value(), spec.fill_to, std::max<uint64_t>(4 * spec.queue_minfree_bytes, 64ULL << 20),
                    fill_progress, g_stop);
    fill_progress.Finish();
    if (!filled.ok()) return Fail("filling the work directory: " + filled.status().message());
  }
  auto result = eng->Run(spec, wd.value(), sink, g_stop);
  if (!result.ok()) {
    SummaryRecord failed;
    failed.node = spec.node;
    failed.engine = spec.engine;
    failed.status = "error";
    failed.error = result.status().message();
    sink.Emit(failed.ToJson());
    return Fail(result.status().message());
  }
  const SummaryRecord& sum = result.value();
  sink.Emit(sum.ToJson());
  if (sum.status == "error") {
    std::fprintf(stderr, "fwcanary-agent: error: %s\n", sum.error.c_str());
    std::fflush(stdout);
    std::fflush(stderr);
    _exit(kExitError);  // worker threads may still be stuck in the storage; skip destructors
  }
  if (cleanup) {
    std::vector<std::string> left;
    if (Status s = wd->Cleanup(&left); !s.ok()) return Fail(s.message());
    for (const auto& l : left) std::fprintf(stderr, "fwcanary-agent: left in place: %s\n", l.c_str());
  }
  if (sum.integrity_failures > 0) {
    std::fprintf(stderr, "fwcanary-agent: INTEGRITY: %zu lost, %zu corrupt message(s)\n",
                 sum.lost.size(), sum.corrupt.size());
    return kExitRegression;
  }
  return kExitPass;
}

}  // namespace fwcanary
