#pragma once
// The fwsim filesystem: a passthrough over a backing directory whose timing and reported space
// come from the node's firmware (ServiceModel, SpaceAccounting).
//
// Data is stored for real in the backing directory, so nothing written is lost across a flash.
// Runs as root with allow_other + default_permissions (the kernel checks permissions); files
// created are chowned to the calling user so the lab's node user owns what it writes.
//
// Thread safety: the operations run on libfuse's worker threads; FsContext's members are
// thread-safe and outlive the mount.

#define FUSE_USE_VERSION 312
#include <fuse3/fuse.h>

#include "lab/fwsim/service_model.h"
#include "lab/fwsim/space_accounting.h"

namespace fwcanary::lab {

struct FsContext {
  int root_fd = -1;              // the backing directory, O_DIRECTORY
  ServiceModel* model = nullptr;
  SpaceAccounting* space = nullptr;
  // false (the lab default): fsync is modelled by the firmware's service time only, so the host
  // disk's own fsync noise does not blur the firmware's behaviour.
  bool real_fsync = false;
};

// The operations table; fuse_new's private_data must be an FsContext*.
const fuse_operations& FwsimOperations();

}  // namespace fwcanary::lab
