#pragma once
// NodeDaemon: one simulated storage node. It owns the node's data path (the fwsim mount, timed
// by the active firmware), its management side (a real sshd), its persistent state (firmware,
// boot id, settings) and the control socket through which `fwsim-node` reports and flashes.
//
// A flash, as a node sees it:
//   1. the request is acknowledged at once (the SSH session that asked can close);
//   2. after a second, management goes down: sshd's listener stops (a disruptive image kills
//      every process of the node and unmounts: a host reboot);
//   3. I/O is held, not failed, for the image's flash_seconds (disruptive: the mount is gone);
//   4. the new profile takes effect, settings the image resets are reset, a new boot id is
//      written, I/O resumes (disruptive: remount), sshd comes back with the same host key.
//
// Thread safety: Run() is the main thread; a flash runs on its own thread; shared state is
// guarded by mu_.

#include <sys/types.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "lab/fwsim/control_socket.h"
#include "lab/fwsim/firmware_profile.h"
#include "lab/fwsim/fuse_mount.h"
#include "lab/fwsim/node_state.h"
#include "lab/fwsim/service_model.h"
#include "lab/fwsim/space_accounting.h"
#include "lab/fwsim/sshd_supervisor.h"

namespace fwcanary::lab {

struct NodeOptions {
  std::string name = "node-1";
  std::string dir;            // node directory: backing/, mnt/, sshd/, state.json, ...
  std::string firmware_dir;   // where IMAGE names resolve (IMAGE.yaml)
  std::string initial_image = "1.0";  // firmware of a node booted for the first time
  std::string address = "127.0.1.1";  // sshd's listen address
  int port = 22;
  uint64_t capacity_bytes = 0;  // 0: the backing filesystem's size
  bool real_fsync = false;
  unsigned control_gid = 0;     // group allowed to use the control socket
};

class NodeDaemon {
 public:
  explicit NodeDaemon(NodeOptions options);
  ~NodeDaemon();
  // Boots the node and serves until SIGTERM/SIGINT. Returns a process exit code.
  int Run();

 private:
  Status Boot();
  void Serve(int listen_fd);
  void Shutdown();
  ControlReply Handle(const std::string& request);
  ControlReply StatusReply();
  ControlReply StartFlash(const std::string& image);
  void FlashSequence(FirmwareProfile target);
  std::string Path(const std::string& leaf) const { return o_.dir + "/" + leaf; }

  const NodeOptions o_;
  std::mutex mu_;
  NodeState state_;            // GUARDED_BY(mu_)
  FirmwareProfile profile_;    // GUARDED_BY(mu_)
  std::string phase_ = "booting";  // booting | up | flashing | down; GUARDED_BY(mu_)
  std::unique_ptr<ServiceModel> model_;
  SpaceAccounting space_;
  FsContext ctx_;
  FuseMount mount_;
  SshdSupervisor sshd_;        // GUARDED_BY(mu_)
  std::thread flash_thread_;
  std::atomic<bool> flashing_{false};
  bool sshd_fault_ = false;  // `fault sshd-kill`: management stays down (guarded by mu_)
  int root_fd_ = -1;
};

}  // namespace fwcanary::lab
