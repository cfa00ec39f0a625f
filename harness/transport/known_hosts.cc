#include "harness/transport/known_hosts.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <mutex>
#include <sstream>
#include <vector>

namespace fwcanary::transport {
namespace {

int KnownHostKeyType(int hostkey_type) {
  switch (hostkey_type) {
    case LIBSSH2_HOSTKEY_TYPE_RSA:
      return LIBSSH2_KNOWNHOST_KEY_SSHRSA;
    case LIBSSH2_HOSTKEY_TYPE_DSS:
      return LIBSSH2_KNOWNHOST_KEY_SSHDSS;
    case LIBSSH2_HOSTKEY_TYPE_ECDSA_256:
      return LIBSSH2_KNOWNHOST_KEY_ECDSA_256;
    case LIBSSH2_HOSTKEY_TYPE_ECDSA_384:
      return LIBSSH2_KNOWNHOST_KEY_ECDSA_384;
    case LIBSSH2_HOSTKEY_TYPE_ECDSA_521:
      return LIBSSH2_KNOWNHOST_KEY_ECDSA_521;
    case LIBSSH2_HOSTKEY_TYPE_ED25519:
      return LIBSSH2_KNOWNHOST_KEY_ED25519;
    default:
      return LIBSSH2_KNOWNHOST_KEY_UNKNOWN;
  }
}

const char* MethodOf(int key_mask) {
  switch (key_mask) {
    case LIBSSH2_KNOWNHOST_KEY_SSHRSA:
      return "rsa-sha2-512,rsa-sha2-256,ssh-rsa";
    case LIBSSH2_KNOWNHOST_KEY_ECDSA_256:
      return "ecdsa-sha2-nistp256";
    case LIBSSH2_KNOWNHOST_KEY_ECDSA_384:
      return "ecdsa-sha2-nistp384";
    case LIBSSH2_KNOWNHOST_KEY_ECDSA_521:
      return "ecdsa-sha2-nistp521";
    case LIBSSH2_KNOWNHOST_KEY_ED25519:
      return "ssh-ed25519";
    default:
      return nullptr;
  }
}

// How known_hosts names host:port.
std::string EntryName(const std::string& host, int port) {
  return port == 22 ? host : "[" + host + "]:" + std::to_string(port);
}

// The file's entries, line by line; a line libssh2 cannot read is skipped. False when the
// file exists but cannot be read (a missing file is empty).
bool ReadLines(LIBSSH2_KNOWNHOSTS* kh, const std::string& path, int* skipped) {
  std::ifstream in(path);
  if (!in) return errno == ENOENT;
  for (std::string line; std::getline(in, line);) {
    std::size_t first = line.find_first_not_of(" \t");
    if (first == std::string::npos || line[first] == '#') continue;
    if (libssh2_knownhost_readline(kh, line.c_str(), line.size(), LIBSSH2_KNOWNHOST_FILE_OPENSSH) != 0) ++*skipped;
  }
  return !in.bad();
}

// Key types (masks) recorded for `name` in plain entries. Hashed entries are matched by
// libssh2_knownhost_checkp only, for the presented type.
std::vector<int> KnownTypes(LIBSSH2_KNOWNHOSTS* kh, const std::string& name) {
  std::vector<int> types;
  libssh2_knownhost* entry = nullptr;
  libssh2_knownhost* prev = nullptr;
  while (libssh2_knownhost_get(kh, &entry, prev) == 0) {
    if (entry->name != nullptr && name == entry->name) types.push_back(entry->typemask & LIBSSH2_KNOWNHOST_KEY_MASK);
    prev = entry;
  }
  return types;
}

std::mutex g_write_mu;  // this process's threads; flock keeps other processes out

}  // namespace

std::string PreferredHostKeyMethods(LIBSSH2_SESSION* session, const std::string& path, const std::string& host,
                                    int port) {
  LIBSSH2_KNOWNHOSTS* kh = libssh2_knownhost_init(session);
  if (kh == nullptr) return "";
  int skipped = 0;
  std::string methods;
  if (ReadLines(kh, path, &skipped)) {
    for (int t : KnownTypes(kh, EntryName(host, port))) {
      const char* m = MethodOf(t);
      if (m != nullptr && methods.find(m) == std::string::npos) methods += (methods.empty() ? "" : ",") + std::string(m);
    }
  }
  libssh2_knownhost_free(kh);
  return methods;
}

Status CheckHostKey(LIBSSH2_SESSION* session, const HostKeyPolicy& policy, const std::string& host, int port) {
  std::size_t len = 0;
  int type = 0;
  const char* key = libssh2_session_hostkey(session, &len, &type);
  if (key == nullptr) return Status::Unavailable("no host key from " + host);
  const std::string who = host + ":" + std::to_string(port);
  const int key_mask = KnownHostKeyType(type);
  const int mask = LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW | key_mask;

  // Under accept-new the check and the append happen under the lock, so that two connections
  // to one new host record one line, and the second checks against the first's.
  std::unique_lock<std::mutex> process_lock(g_write_mu, std::defer_lock);
  int lock_fd = -1;
  if (policy.accept_new) {
    process_lock.lock();
    lock_fd = ::open(policy.known_hosts.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (lock_fd < 0 || ::flock(lock_fd, LOCK_EX) != 0) {
      if (lock_fd >= 0) ::close(lock_fd);
      return Status::IOError("cannot open " + policy.known_hosts + " to record host keys: " + std::strerror(errno));
    }
  }
  struct Closer {
    int fd;
    ~Closer() {
      if (fd >= 0) ::close(fd);  // releases the flock
    }
  } closer{lock_fd};

  LIBSSH2_KNOWNHOSTS* kh = libssh2_knownhost_init(session);
  if (kh == nullptr) return Status::IOError("libssh2_knownhost_init failed");
  struct Freer {
    LIBSSH2_KNOWNHOSTS* kh;
    ~Freer() { libssh2_knownhost_free(kh); }
  } freer{kh};
  int skipped = 0;
  if (!ReadLines(kh, policy.known_hosts, &skipped)) {
    return Status::IOError("cannot read " + policy.known_hosts + ": " + std::strerror(errno));
  }
  libssh2_knownhost* found = nullptr;
  int check = libssh2_knownhost_checkp(kh, host.c_str(), port, key, len, mask, &found);
  if (check == LIBSSH2_KNOWNHOST_CHECK_MATCH) return Status::Ok();
  if (check == LIBSSH2_KNOWNHOST_CHECK_MISMATCH) {
    return Status::Refused("host key for " + who + " does not match " + policy.known_hosts +
                           ": it changed (a reinstalled node, or someone in the middle); "
                           "refusing to connect. Check it, then update known_hosts");
  }
  if (check != LIBSSH2_KNOWNHOST_CHECK_NOTFOUND) return Status::IOError("cannot check the host key of " + who);
  if (!KnownTypes(kh, EntryName(host, port)).empty()) {
    return Status::Refused("host " + who + " is known in " + policy.known_hosts +
                           " by a key of another type than the one it presented: refusing to connect "
                           "(a downgrade, or someone in the middle). Check it, then update known_hosts");
  }
  const std::string note = skipped > 0 ? " (" + std::to_string(skipped) + " line(s) of it could not be read)" : "";
  if (!policy.accept_new) {
    return Status::Refused("host key for " + who + " is not in " + policy.known_hosts + note +
                           "; refusing to connect (add it, or set ssh.host_keys: accept-new)");
  }
  libssh2_knownhost* added = nullptr;
  if (libssh2_knownhost_addc(kh, EntryName(host, port).c_str(), nullptr, key, len, nullptr, 0, mask, &added) != 0) {
    return Status::IOError("cannot record the new host key of " + who);
  }
  char line[16384];
  std::size_t out = 0;
  if (libssh2_knownhost_writeline(kh, added, line, sizeof line, &out, LIBSSH2_KNOWNHOST_FILE_OPENSSH) != 0) {
    return Status::IOError("cannot record the new host key of " + who);
  }
  // Appended as one write to the end of the file (O_APPEND); a file whose last line has no
  // newline gets one first, so the user's last line stays whole.
  std::string text(line, out);
  if (text.empty() || text.back() != '\n') text += '\n';
  off_t size = ::lseek(lock_fd, 0, SEEK_END);
  if (size > 0) {
    char last = '\n';
    if (::pread(lock_fd, &last, 1, size - 1) == 1 && last != '\n') text.insert(0, "\n");
  }
  if (::write(lock_fd, text.data(), text.size()) != static_cast<ssize_t>(text.size()) || ::fsync(lock_fd) != 0) {
    return Status::IOError("cannot record the new host key of " + who + " in " + policy.known_hosts + ": " +
                           std::strerror(errno));
  }
  return Status::Ok();
}

}  // namespace fwcanary::transport
