#pragma once
// FuseMount: one fwsim mount and the thread that serves it.
//
// Unmount() is a host going down, not a polite umount: it detaches the mount and aborts the
// FUSE connection (fusectl), so clients holding files there get errors at once instead of the
// unmount waiting for them. Mount() again brings it back (a reboot).
//
// Thread safety: Mount/Unmount from one controlling thread; the filesystem serves on its own.

#include <sys/types.h>

#include <string>
#include <thread>

#include "common/status.h"
#include "lab/fwsim/fwsim_fs.h"

namespace fwcanary::lab {

class FuseMount {
 public:
  FuseMount() = default;
  FuseMount(const FuseMount&) = delete;
  FuseMount& operator=(const FuseMount&) = delete;
  ~FuseMount() { Unmount(); }

  // Mounts `ctx` at `mountpoint` (allow_other, default_permissions) and starts serving.
  // REQUIRES: not mounted; ctx outlives the mount.
  Status Mount(const std::string& mountpoint, const std::string& fsname, FsContext* ctx);
  // Detaches and aborts; returns when the serving threads have stopped. No-op when unmounted.
  void Unmount();
  bool mounted() const { return fuse_ != nullptr; }

 private:
  fuse* fuse_ = nullptr;
  std::thread loop_;
  std::string mountpoint_;
  dev_t dev_ = 0;
};

// True when `path` is a mount point in /proc/self/mountinfo (never touches the mount itself,
// so it cannot hang on a held or dead FUSE mount).
bool IsMountPoint(const std::string& path);

}  // namespace fwcanary::lab
