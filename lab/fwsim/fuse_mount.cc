#include "lab/fwsim/fuse_mount.h"

#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <cerrno>
#include <fstream>
#include <sstream>
#include <vector>

namespace fwcanary::lab {

Status FuseMount::Mount(const std::string& mountpoint, const std::string& fsname,
                        FsContext* ctx) {
  std::string opts = "allow_other,default_permissions,fsname=" + fsname + ",subtype=fwsim";
  std::vector<std::string> argv_s = {"fwsim", "-o", opts};
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  fuse_args args = FUSE_ARGS_INIT(static_cast<int>(argv.size()), argv.data());
  fuse_ = fuse_new(&args, &FwsimOperations(), sizeof(fuse_operations), ctx);
  fuse_opt_free_args(&args);
  if (fuse_ == nullptr) return Status::IOError("fuse_new failed for " + mountpoint);
  if (fuse_mount(fuse_, mountpoint.c_str()) != 0) {
    fuse_destroy(fuse_);
    fuse_ = nullptr;
    return Status::IOError("cannot mount fwsim at " + mountpoint +
                           " (needs root and /dev/fuse; is something mounted there already?)");
  }
  mountpoint_ = mountpoint;
  fuse* f = fuse_;
  loop_ = std::thread([f] {
    fuse_loop_config* cfg = fuse_loop_cfg_create();
    // Requests sleep for their service time; enough threads that the firmware's slots, not
    // libfuse, decide how many are served at once.
    fuse_loop_cfg_set_max_threads(cfg, 256);
    fuse_loop_cfg_set_idle_threads(cfg, 16);
    fuse_loop_mt(f, cfg);
    fuse_loop_cfg_destroy(cfg);
  });
  struct stat st {};
  if (::stat(mountpoint.c_str(), &st) == 0) dev_ = st.st_dev;
  return Status::Ok();
}

void FuseMount::Unmount() {
  if (fuse_ == nullptr) return;
  fuse_exit(fuse_);
  ::umount2(mountpoint_.c_str(), MNT_DETACH);
  // Abort the connection: requests in flight and clients' open files fail now (ENOTCONN), as
  // on a host that went down; a lazy unmount alone would keep serving them.
  std::string abort_path = "/sys/fs/fuse/connections/" + std::to_string(minor(dev_)) + "/abort";
  std::ofstream(abort_path) << "1";
  if (loop_.joinable()) loop_.join();
  fuse_destroy(fuse_);
  fuse_ = nullptr;
}

bool IsMountPoint(const std::string& path) {
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ss(line);
    std::string id, parent, devno, root, mnt;
    ss >> id >> parent >> devno >> root >> mnt;
    if (mnt == path) return true;
  }
  return false;
}

}  // namespace fwcanary::lab
