#pragma once
// The node's control socket: how `fwsim-node` (run by the lab user over SSH) asks the root-owned
// fwsim daemon to report or flash, without setuid binaries or sudo rules.
//
// Protocol, one request per connection: the client writes one line ("flash 1.1\n"); the server
// answers with text lines and a last line "exit N" (N is the command's exit code). Arguments
// are single words; nothing here is ever passed to a shell.
//
// Thread safety: free functions, no shared state.

#include <string>

#include "common/status.h"

namespace fwcanary::lab {

struct ControlReply {
  std::string text;  // what the command prints
  int exit_code = 0;
};

// Client: sends `request`, waits up to `timeout_s` for the whole reply.
Result<ControlReply> ControlRequest(const std::string& socket_path, const std::string& request,
                                    double timeout_s);

// Server side helpers.
// Creates a listening unix socket at `path` (replacing a stale one), mode 0660, owned by
// root:`gid` so the node user's group may connect.
Result<int> ListenControl(const std::string& path, unsigned gid);
// Reads one request line from `fd` (bounded size and time). Empty on error.
std::string ReadRequestLine(int fd, double timeout_s);
void WriteReply(int fd, const ControlReply& reply);

}  // namespace fwcanary::lab
