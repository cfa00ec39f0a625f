#include "agents/fs_space.h"

#include <sys/statvfs.h>

namespace fwcanary {

void FillFilesystemSpace(const std::string& path, SpaceSample& s) {
  struct statvfs vfs {};
  if (::statvfs(path.c_str(), &vfs) != 0) return;
  s.fs_used_bytes = static_cast<uint64_t>(vfs.f_blocks - vfs.f_bfree) * vfs.f_frsize;
  s.fs_free_bytes = static_cast<uint64_t>(vfs.f_bavail) * vfs.f_frsize;
}

}  // namespace fwcanary
