#include "agents/mail/mail_ops.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <ctime>

#include "agents/fs_space.h"
#include "agents/workdir.h"

namespace fwcanary {
namespace {

using Clock = std::chrono::steady_clock;

double MicrosSince(Clock::time_point t0, Clock::time_point t1) {
  return std::chrono::duration<double, std::micro>(t1 - t0).count();
}

// Writes all of `iov`, resuming after short writes and EINTR. Returns 0 or an errno.
int WriteAll(int fd, std::vector<iovec> iov) {
  std::size_t i = 0;
  while (i < iov.size()) {
    int cnt = static_cast<int>(std::min<std::size_t>(iov.size() - i, IOV_MAX));
    ssize_t n = ::writev(fd, iov.data() + i, cnt);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    auto left = static_cast<std::size_t>(n);
    while (i < iov.size() && left >= iov[i].iov_len) {
      left -= iov[i].iov_len;
      ++i;
    }
    if (i < iov.size() && left > 0) {
      iov[i].iov_base = static_cast<char*>(iov[i].iov_base) + left;
      iov[i].iov_len -= left;
    }
  }
  return 0;
}

// Reads a whole file into `buf`. Returns 0 or an errno.
int ReadAll(const std::string& path, std::string& buf) {
  int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return errno;
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return err;
  }
  // Read exactly st_size (no extra read for EOF: POP knows the size from the listing).
  buf.resize(static_cast<std::size_t>(st.st_size));
  std::size_t got = 0;
  while (got < buf.size()) {
    ssize_t n = ::read(fd, buf.data() + got, buf.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      return err;
    }
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  buf.resize(got);
  ::close(fd);
  return 0;
}

std::string Errno(const std::string& what, int err) { return what + ": " + std::strerror(err); }

}  // namespace

MailOps::MailOps(const WorkloadSpec& spec, std::string root, std::string run_id,
                 MailStore& store)
    : spec_(spec),
      root_(std::move(root)),
      run_id_(std::move(run_id)),
      store_(store),
      sizes_(spec.size),
      users_(spec.users, spec.user_skew),
      fs_space_(root_, std::chrono::milliseconds(50)) {}

MailOps::~MailOps() = default;

std::string MailOps::UserDir(int user) const {
  char name[32];
  std::snprintf(name, sizeof(name), "mail/u%05d", user);
  return root_ + "/" + name;
}

Status MailOps::Prepare() {
  for (const char* d : {"queue", "queue/incoming", "queue/active", "queue/deferred", "mail"}) {
    std::string p = root_ + "/" + d;
    if (::mkdir(p.c_str(), 0755) != 0 && errno != EEXIST) return Status::FromErrno("mkdir " + p, errno);
  }
  for (int u = 0; u < spec_.users; ++u) {
    std::string ud = UserDir(u);
    for (const std::string& p : {ud, ud + "/tmp", ud + "/new", ud + "/cur"}) {
      if (::mkdir(p.c_str(), 0700) != 0 && errno != EEXIST) {
        return Status::FromErrno("mkdir " + p, errno);
      }
      struct stat st {};
      if (::lstat(p.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
        return Status::Refused(p + " is not a real directory");
      }
    }
  }
  return Status::Ok();
}

int MailOps::UserFor(uint64_t seq) const {
  uint64_t r = SeedFor(spec_.seed, seq, 2);
  return users_.Sample(static_cast<double>(r >> 11) * 0x1.0p-53);
}

OpOutcome MailOps::Deliver(uint64_t seq) {
  OpOutcome out;
  SplitMix64 rng(SeedFor(spec_.seed, seq, 1));
  int user = UserFor(seq);
  std::string id = run_id_ + "_" + std::to_string(seq);
  RenderedMessage msg = RenderMessage(id, sizes_.Sample(rng), user, rng());

  // queue_write: what smtpd/cleanup do before answering 250 OK.
  std::string incoming = root_ + "/queue/incoming/" + id;
  auto t0 = Clock::now();
  int fd = ::open(incoming.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    out.kind = OpOutcome::Kind::kError;
    out.error = Errno("queue create", errno);
    return out;
  }
  int err = WriteAll(fd, msg.iov);
  if (err == 0 && spec_.fsync && ::fsync(fd) != 0) err = errno;
  if (::close(fd) != 0 && err == 0) err = errno;
  if (err != 0) {
    ::unlink(incoming.c_str());  // not accepted: the sender keeps the message and retries
    out.kind = OpOutcome::Kind::kError;
    out.error = Errno("queue write", err);
    return out;
  }
  auto t1 = Clock::now();
  out.steps.push_back({"queue_write", MicrosSince(t0, t1)});

  std::string active = root_ + "/queue/active/" + id;
  if (::rename(incoming.c_str(), active.c_str()) != 0) {
    out.error = Errno("queue rename", errno);
    Defer(msg.meta, user, incoming, out);
    return out;
  }
  out.steps.push_back({"queue_rename", MicrosSince(t1, Clock::now())});
  return DeliverToMailbox(msg.meta, user, msg.iov, active, std::move(out));
}

OpOutcome MailOps::DeliverToMailbox(const MessageMeta& meta, int user,
                                    const std::vector<iovec>& iov, const std::string& queue_path,
                                    OpOutcome out) {
  char name[160];
  std::snprintf(name, sizeof(name), "%lld.%s.fwcanary,S=%" PRIu64,
                static_cast<long long>(std::time(nullptr)), meta.id.c_str(), meta.size);
  std::string ud = UserDir(user);
  std::string tmp = ud + "/tmp/" + name;
  auto t0 = Clock::now();
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    out.error = Errno("maildir create", errno);
    Defer(meta, user, queue_path, out);
    return out;
  }
  int err = WriteAll(fd, iov);
  if (err == 0 && spec_.fsync && ::fsync(fd) != 0) err = errno;
  struct stat st {};
  if (err == 0 && ::fstat(fd, &st) != 0) err = errno;
  // The message is durable now; drop its pages so a later POP read goes to the storage.
  if (err == 0 && spec_.cold_read) ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
  if (::close(fd) != 0 && err == 0) err = errno;
  if (err != 0) {
    ::unlink(tmp.c_str());
    out.error = Errno("maildir write", err);
    Defer(meta, user, queue_path, out);
    return out;
  }
  auto t1 = Clock::now();
  out.steps.push_back({"maildir_write", MicrosSince(t0, t1)});

  std::string dest = ud + "/new/" + name;
  if (::rename(tmp.c_str(), dest.c_str()) != 0) {
    ::unlink(tmp.c_str());
    out.error = Errno("maildir rename", errno);
    Defer(meta, user, queue_path, out);
    return out;
  }
  auto t2 = Clock::now();
  out.steps.push_back({"maildir_rename", MicrosSince(t1, t2)});
  if (spec_.dir_fsync) {
    // As Dovecot's fdatasync_path(): open, fdatasync, close. Holding a descriptor per mailbox
    // instead would run out of them (5,000 users against a 1,024 default limit).
    std::string new_dir = ud + "/new";
    int dfd = ::open(new_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
      ::fdatasync(dfd);
      ::close(dfd);
    }
    out.steps.push_back({"dir_fsync", MicrosSince(t2, Clock::now())});
  }
  out.done = Clock::now();  // readable by POP/IMAP from here on
  StoredMessage stored;
  stored.meta = meta;
  stored.user = user;
  stored.path = dest.substr(root_.size() + 1);
  stored.allocated = static_cast<uint64_t>(st.st_blocks) * 512;
  store_.Add(std::move(stored));

  auto t3 = Clock::now();
  ::unlink(queue_path.c_str());
  out.steps.push_back({"queue_unlink", MicrosSince(t3, Clock::now())});
  out.bytes = meta.size;
  return out;
}

void MailOps::Defer(const MessageMeta& meta, int user, const std::string& from, OpOutcome& out) {
  out.kind = OpOutcome::Kind::kError;
  std::string deferred = root_ + "/queue/deferred/" + meta.id;
  StoredMessage m;
  m.meta = meta;
  m.user = user;
  m.path = "queue/deferred/" + meta.id;
  if (from != deferred && ::rename(from.c_str(), deferred.c_str()) != 0) {
    m.path = from.substr(root_.size() + 1);  // could not even move it: track it where it is
  }
  out.deferred = true;
  out.done = Clock::now();
  store_.AddDeferred(std::move(m));
}

OpOutcome MailOps::Redeliver(const StoredMessage& d) {
  OpOutcome out;
  std::string path = root_ + "/" + d.path;
  std::string buf;
  int err = ReadAll(path, buf);
  if (err != 0) {
    if (err == ENOENT) {
      out.kind = OpOutcome::Kind::kLost;
      out.message_id = d.meta.id;
      out.error = "deferred queue file vanished";
    } else {
      out.error = Errno("read deferred", err);
      Defer(d.meta, d.user, path, out);
    }
    return out;
  }
  if (Status s = VerifyMessage(buf, d.meta); !s.ok()) {
    out.kind = OpOutcome::Kind::kCorrupt;
    out.message_id = d.meta.id;
    out.error = s.message();
    return out;
  }
  std::vector<iovec> iov{{buf.data(), buf.size()}};
  return DeliverToMailbox(d.meta, d.user, iov, path, std::move(out));
}

OpOutcome MailOps::Retrieve(uint64_t seq) {
  OpOutcome out;
  auto claimed = store_.ClaimOldest(UserFor(seq));
  if (!claimed) {
    out.kind = OpOutcome::Kind::kEmpty;
    out.done = Clock::now();
    return out;
  }
  const StoredMessage& m = *claimed;
  std::string path = root_ + "/" + m.path;
  thread_local std::string buf;
  auto t0 = Clock::now();
  int err = ReadAll(path, buf);
  auto t1 = Clock::now();
  if (err != 0) {
    out.message_id = m.meta.id;
    if (err == ENOENT) {
      out.kind = OpOutcome::Kind::kLost;
      out.error = m.meta.id + ": gone from " + m.path;
    } else {
      out.kind = OpOutcome::Kind::kError;
      out.error = Errno("pop read " + m.path, err);
      store_.Add(m);  // still stored as far as we know; a later retrieve tries again
    }
    out.done = t1;
    return out;
  }
  out.steps.push_back({"pop_read", MicrosSince(t0, t1)});
  out.bytes = buf.size();
  if (Status s = VerifyMessage(buf, m.meta); !s.ok()) {
    // Keep the file as evidence; the message is reported by id.
    out.kind = OpOutcome::Kind::kCorrupt;
    out.message_id = m.meta.id;
    out.error = s.message();
    out.done = t1;
    return out;
  }
  if (::unlink(path.c_str()) != 0) {
    out.kind = OpOutcome::Kind::kError;
    out.error = Errno("pop dele " + m.path, errno);
  }
  out.done = Clock::now();
  out.steps.push_back({"pop_unlink", MicrosSince(t1, out.done)});
  return out;
}

OpOutcome MailOps::Scan(uint64_t seq) {
  OpOutcome out;
  std::string dir = UserDir(UserFor(seq)) + "/new";
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    out.kind = OpOutcome::Kind::kError;
    out.error = Errno("scan opendir", errno);
    out.done = Clock::now();
    return out;
  }
  char head[4096];
  int read_count = 0;
  while (read_count < spec_.scan_messages) {
    dirent* e = ::readdir(d);
    if (e == nullptr) break;
    if (e->d_name[0] == '.') continue;
    int fd = ::openat(::dirfd(d), e->d_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) continue;  // retrieved meanwhile: a real IMAP client sees the same race
    ssize_t n = ::pread(fd, head, sizeof(head), 0);
    ::close(fd);
    if (n < 0) {
      out.kind = OpOutcome::Kind::kError;
      out.error = Errno("scan read", errno);
      break;
    }
    out.bytes += static_cast<uint64_t>(n);
    ++read_count;
  }
  ::closedir(d);
  out.done = Clock::now();
  return out;
}

Status MailOps::Verify(const StoredMessage& m) const {
  std::string buf;
  int err = ReadAll(root_ + "/" + m.path, buf);
  if (err == ENOENT) return Status::NotFound(m.meta.id + ": gone from " + m.path);
  if (err != 0) return Status::IOError(Errno("read " + m.path, err));
  return VerifyMessage(buf, m.meta);
}

SpaceSample MailOps::SampleSpace() const {
  SpaceSample s = store_.Totals();
  fs_space_.Fill(s);
  return s;
}

bool MailOps::HasFreeSpace() const {
  if (spec_.queue_minfree_bytes == 0) return true;
  return fs_space_.free_bytes() >= spec_.queue_minfree_bytes;
}

}  // namespace fwcanary
