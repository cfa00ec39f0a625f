#pragma once
// KnownHosts: an OpenSSH known_hosts file, as the SSH transport checks a node's host key
// against it and (with host_keys: accept-new) records a new one.
//
// What OpenSSH users rely on and libssh2's own file helpers do not give:
//   - One line libssh2 cannot parse (a @cert-authority marker, an option it does not know, a
//     typo) must not make every host "not found": lines are read one by one, and a bad line
//     is skipped (and counted), not the whole file.
//   - The user's file is never truncated or rewritten: a new key is one line appended, under an
//     exclusive lock (flock on the file, and a mutex for this process's threads), after reading
//     the file again under that lock (another connection may just have recorded this host).
//   - The key type is pinned: a host known by a key of one type that presents another (a
//     downgrade, or someone in the middle) is refused like a changed key, not accepted as new;
//     and PreferredHostKeyMethods() lets the handshake ask for the types already known.
//
// Thread safety: Check and the file writes may run from many threads at once.

#include <string>

#include <libssh2.h>

#include "common/status.h"

namespace fwcanary::transport {

struct HostKeyPolicy {
  std::string known_hosts;           // the file
  bool accept_new = false;           // record an unknown host's key instead of refusing it
};

// The hostkey method list ("ssh-ed25519,ecdsa-sha2-nistp256") of the key types known_hosts
// holds for host:port in plain entries, or "" when none is known (then any type is offered).
std::string PreferredHostKeyMethods(LIBSSH2_SESSION* session, const std::string& path, const std::string& host,
                                    int port);

// Checks the key the server presented. OK when it matches (or was recorded, under accept-new);
// Refused when it differs from the recorded one, when the host is known only by a key of
// another type, or when it is unknown and accept_new is off; IOError when the file cannot be
// read or the new key cannot be recorded.
Status CheckHostKey(LIBSSH2_SESSION* session, const HostKeyPolicy& policy, const std::string& host, int port);

}  // namespace fwcanary::transport
