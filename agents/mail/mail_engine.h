#pragma once
// MailEngine: native replay of a mail server's storage traffic (see mail_ops.h for the system
// calls). Open loop by default: Poisson arrivals at their scheduled times, served by a pool of
// workers (an idle worker takes the next arrival and waits for its time itself; arrivals that
// come due while all are busy are counted then and queued), and each latency runs from the
// scheduled time, so a storage stall shows as latency and as a growing queue, never as a
// silently lower load. `concurrency: N` switches
// to a closed loop of N back-to-back workers that finds the maximum rate.
//
// Phases run in order; a drain phase ends when the delivery backlog (and the deferred queue)
// is empty and reports how long that took. At the end every stored message is read back and
// verified, and the store is saved to manifest.json for the next run in the same directory.

#include "agents/engine.h"

namespace fwcanary {

class MailEngine : public Engine {
 public:
  const EngineInfo& info() const override;
  Result<SummaryRecord> Run(const WorkloadSpec& spec, const WorkDir& workdir, RecordSink& sink,
                            const std::atomic<bool>& stop) override;
};

}  // namespace fwcanary
