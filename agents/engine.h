#pragma once
// Engine: one way of putting a mail workload on storage. Engines are plug-ins behind this small
// interface (like fio's ioengine ops table): the agent's main picks one by the spec's `engine`.
//
// Contract for Run():
//   - REQUIRES: the spec is validated; `workdir` is open (marked) and belongs to this run.
//   - Writes interval records to `sink` as intervals complete, in time order, never spanning two
//     phases; returns the summary record (the caller writes it). A run cut short (stop flag,
//     storage error) still returns a summary, with status "stopped" or "error" and `error` set.
//   - Returns a non-OK Status only when nothing was measured (fio missing, workdir unusable).
//   - Watches `stop` (set from a signal handler) and stops arrivals promptly when it turns true.
// Thread safety: Run is called once per engine object.

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "agents/record_sink.h"
#include "agents/records/records.h"
#include "agents/spec/workload_spec.h"
#include "agents/workdir.h"
#include "common/status.h"

namespace fwcanary {

struct EngineInfo {
  const char* name;
  int version;                       // bumped when what an engine measures changes
  std::vector<std::string> classes;  // operation classes it reports
  bool open_loop;                    // Poisson arrivals, latency from the intended start
  bool closed_loop;                  // back-to-back workers (`concurrency: N`)
  const char* summary;               // one line for --help
};

class Engine {
 public:
  virtual ~Engine() = default;
  virtual const EngineInfo& info() const = 0;
  virtual Result<SummaryRecord> Run(const WorkloadSpec& spec, const WorkDir& workdir,
                                    RecordSink& sink, const std::atomic<bool>& stop) = 0;
};

// The engine table: every engine the agent knows, for lookup and for --help.
std::unique_ptr<Engine> MakeEngine(const std::string& name);
std::vector<EngineInfo> ListEngines();
// Their names, in table order: what the spec's `engine` and `--engine` accept.
std::vector<std::string> EngineNames();

}  // namespace fwcanary
