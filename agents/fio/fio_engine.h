#pragma once
// FioEngine: runs fio (Boost.Process) once per phase with the job from fio_job.h, in closed
// loop, and turns its periodic JSON status documents into interval records. A missing fio
// binary, an fio that exits non-zero or outlives its deadline is a clear error.

#include "agents/engine.h"

namespace fwcanary {

class FioEngine : public Engine {
 public:
  const EngineInfo& info() const override;
  Result<SummaryRecord> Run(const WorkloadSpec& spec, const WorkDir& workdir, RecordSink& sink,
                            const std::atomic<bool>& stop) override;
};

}  // namespace fwcanary
