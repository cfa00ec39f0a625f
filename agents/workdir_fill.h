#pragma once
// Fills the work directory's filesystem to a share of its size before the first phase, with
// filler files (fill/filler.N, incompressible bytes: an array that compresses or dedupes must
// not get them for free). A mail store in use for years is full, not empty; firmware that
// slows as its internal space fills (the incident's) looks healthy on a fresh, empty node.
//
// The filler stays between runs in the same work directory (a later run finds it there and
// writes no more) and is removed by --cleanup. It never takes the filesystem below
// `keep_free_bytes` free: the mail itself still has to fit.
// Known gap (issue 22): the controller gives each window its own work directory and cleans it
// up, so in a rollout every window fills anew to `fill_to` of what the node reports. After an
// upgrade that counts data more heavily (2.0-fill-collapse: twice) the candidate then sits at
// the same reported level with half the data, not at the level the baseline's data now takes:
// the fill must outlive the windows (one filler per run, removed at its end) to show that.
//
// Thread safety: one caller; `stop` is read between files.

#include <atomic>
#include <cstdint>

#include "agents/progress.h"
#include "agents/workdir.h"
#include "common/status.h"

namespace fwcanary {

// The directory the filler goes in, below the work directory.
inline constexpr const char* kFillDir = "fill";

// Writes filler until the filesystem's used share reaches `fill_to` (0 < fill_to < 1), or free
// space would fall under `keep_free_bytes`. Returns the bytes written (0: already that full).
Result<uint64_t> FillWorkDir(const WorkDir& wd, double fill_to, uint64_t keep_free_bytes, Progress& progress,
                             const std::atomic<bool>& stop);

}  // namespace fwcanary
