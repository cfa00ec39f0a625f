#pragma once
// Filesystem space as the storage reports it (statvfs), for the space figures of the records.

#include <string>

#include "agents/records/records.h"

namespace fwcanary {

// Sets s.fs_used_bytes and s.fs_free_bytes from statvfs(path); leaves them 0 on failure.
void FillFilesystemSpace(const std::string& path, SpaceSample& s);

}  // namespace fwcanary
