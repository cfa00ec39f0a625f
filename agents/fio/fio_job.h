#pragma once
// Turns a workload spec's phase into an fio job file (closed loop, for capacity runs).
//
// Deliver is a write job over many small files: create on open, one write of the message size,
// fsync (fio's `fsync=1` after the single block), close, next file. Retrieve is a read job over
// its own files with the page cache invalidated first. Deliberately avoided, because they
// break on Debian's fio 3.33: rate_process=poisson with fsync (SIGFPE with thread=1),
// io_submit_mode=offload (hangs) and fsync_on_close (records no fsync latency). fio's rate mode
// is never used: it timestamps at issue and hides coordinated omission; the native mail
// engine owns open-loop latency.

#include <string>

#include "agents/spec/workload_spec.h"

namespace fwcanary {

// REQUIRES: `fio_dir` exists. `jobs`: parallel jobs per class (the spec's concurrency, or 1).
std::string MakeFioJob(const WorkloadSpec& spec, const Phase& phase, const std::string& fio_dir,
                       int jobs);

}  // namespace fwcanary
