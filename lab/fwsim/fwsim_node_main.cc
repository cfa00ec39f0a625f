// fwsim-node: the node-side command a simulated node answers over SSH, like a real node's
// firmware tool:  fwsim-node version | boot-id | status | settings | images |
// can-rollback IMAGE | flash IMAGE | rollback | fault sshd-kill|sshd-start (tests).  It forwards the request to the node's fwsim through its control socket
// ($FWSIM_CONTROL, set by the node's sshd) and prints the answer.
// Exit codes: 0 done, 1 refused (unknown image, no previous firmware, flash in progress),
// 2 error (bad usage, node unreachable).
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "lab/fwsim/control_socket.h"

namespace {

const char kUsage[] =
    "usage: fwsim-node COMMAND\n"
    "  version        firmware version running\n"
    "  boot-id        id of the current boot (changes at every reboot)\n"
    "  status         node state, firmware, space, load\n"
    "  settings       the node's configured settings (what a drift check reads)\n"
    "  images         firmware images this node can flash\n"
    "  can-rollback IMAGE  exit 0 when a flash now could be rolled back to IMAGE\n"
    "  flash IMAGE    flash an image (name or path to IMAGE.yaml); returns at once, then the\n"
    "                 node's management restarts and comes back with a new boot id\n"
    "  rollback       flash the previous image\n";

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0) {
    std::fputs(kUsage, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  const char* socket = std::getenv("FWSIM_CONTROL");
  if (socket == nullptr || *socket == '\0') {
    std::fprintf(stderr, "fwsim-node: FWSIM_CONTROL is not set (run it on a lab node over SSH)\n");
    return 2;
  }
  std::string request;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.find_first_of(" \t\n\r") != std::string::npos || arg.empty()) {
      std::fprintf(stderr, "fwsim-node: arguments must be single words, got '%s'\n", argv[i]);
      return 2;
    }
    request += (i > 1 ? " " : "") + arg;
  }
  auto reply = fwcanary::lab::ControlRequest(socket, request, 30.0);
  if (!reply.ok()) {
    std::fprintf(stderr, "fwsim-node: %s\n", reply.status().message().c_str());
    return 2;
  }
  std::fputs(reply->text.c_str(), reply->exit_code == 0 ? stdout : stderr);
  return reply->exit_code;
}
